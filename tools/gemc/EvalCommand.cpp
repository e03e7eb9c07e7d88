//===- EvalCommand.cpp - gemc eval: the reference interpreter ---------------===//

#include "compiler/import/ImportCheckpoint.h"
#include "dialects/gemma/interpreter/Interpreter.h"
#include "runtime/Tokenizer.h"
#include "runtime/common/Error.h"
#include "runtime/media/Audio.h"
#include "runtime/media/Image.h"
#include "runtime/media/MediaPrompt.h"
#include "tools/gemc/Commands.h"
#include "tools/gemc/Common.h"
#include "tools/runner/Generation.h"

#include <llvm/Support/MemoryBuffer.h>

#include <limits>
#include <map>
#include <optional>

namespace gemc {
namespace {

/// One kind of media file given to eval: its flag, files, placeholder id and text, and the ids
/// the processor puts around its soft tokens.
struct MediaInputs {
  const char *flag, *kind, *text;
  const std::vector<std::string> &files;
  int32_t placeholder;
  std::optional<int64_t> begin, end;
  bool image;    // else audio
  bool hasTower; // the checkpoint has the tower that reads this kind
};

std::vector<MediaInputs> mediaInputs(const EvalOptions &options, const MediaConfig &media) {
  return {{"--image", "image", "<|image|>", options.images, int32_t(media.imageTokenId),
           media.boiTokenId, media.eoiTokenId, true, media.vision.has_value()},
          {"--audio", "audio", "<|audio|>", options.audio, int32_t(media.audioTokenId),
           media.boaTokenId, media.eoaTokenId, false, media.audio.has_value()}};
}

/// Each media kind's soft tokens, file by file, by placeholder id.
using EncodedMedia = std::map<int32_t, std::vector<gemma::Tensor>>;

std::vector<MediaTokens> tokenCounts(const MediaInputs &input, const EncodedMedia &encoded) {
  std::vector<MediaTokens> counts;
  auto tokens = encoded.find(input.placeholder);
  for (size_t i = 0; tokens != encoded.end() && i < tokens->second.size(); ++i)
    counts.push_back({input.files[i], tokens->second[i].rows()});
  return counts;
}

/// The prompt of --tokens: ids in the vocabulary, and runs of the placeholder ids of the media
/// given, each with its file's soft token count.
llvm::Expected<std::vector<int32_t>> promptIds(const EvalOptions &options,
                                               const Checkpoint &checkpoint,
                                               const EncodedMedia &encoded) {
  int64_t vocab = checkpoint.config().vocabSize;
  llvm::Expected<std::vector<int32_t>> ids =
      parseTokenIds(options.tokens, std::numeric_limits<int32_t>::max(), "--tokens");
  if (!ids)
    return ids.takeError();
  std::vector<MediaInputs> inputs = mediaInputs(options, checkpoint.media());
  for (size_t i = 0; i < ids->size(); ++i) {
    int32_t id = (*ids)[i];
    if (id < vocab)
      continue;
    auto input = llvm::find_if(inputs, [&](const MediaInputs &m) { return m.placeholder == id; });
    if (input != inputs.end() && !input->files.empty())
      continue;
    if (input != inputs.end())
      return makeError("--tokens: entry {} is the {} placeholder id {}: give the {} files with "
                       "{}",
                       i, input->kind, id, input->kind, input->flag);
    return makeError("--tokens: token id {} (entry {}) is outside the vocabulary [0, {})", id, i,
                     vocab);
  }
  for (const MediaInputs &input : inputs) {
    std::string error;
    if (!input.files.empty() && !checkMediaRuns(*ids, input.placeholder,
                                                tokenCounts(input, encoded), "--tokens",
                                                input.kind, error))
      return makeError("{}", error);
  }
  return ids;
}

/// The file's bytes, or an error naming the flag and the file.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> readMedia(const char *flag,
                                                              const std::string &file) {
  auto bytes = llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
                                           /*RequiresNullTerminator=*/false);
  if (!bytes)
    return makeError("{} {}: cannot open: {}", flag, file, bytes.getError().message());
  return std::move(*bytes);
}

const uint8_t *bytesOf(const llvm::MemoryBuffer &buffer) {
  return reinterpret_cast<const uint8_t *>(buffer.getBufferStart());
}

/// The soft tokens of each --image, in order, by the interpreter.
llvm::Expected<std::vector<gemma::Tensor>> encodeImages(const EvalOptions &options,
                                                        const LoadedModel &model) {
  const Checkpoint &checkpoint = model.checkpoint;
  const VisionConfig &vision = *checkpoint.media().vision;
  VisionGeometry geometry{vision.patchSize, vision.poolingKernel,
                          options.imageTokens ? options.imageTokens : vision.defaultSoftTokens,
                          vision.positionEmbeddingSize};
  mlir::OwningOpRef<mlir::ModuleOp> encoder = importVisionEncoder(*model.context, checkpoint);
  auto encode = encoder->lookupSymbol<mlir::func::FuncOp>("encode_image");
  std::vector<gemma::Tensor> images;
  for (const std::string &file : options.images) {
    llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> bytes = readMedia("--image", file);
    if (!bytes)
      return bytes.takeError();
    ImagePatches patches;
    std::string error;
    if (!preprocessImage(bytesOf(**bytes), (*bytes)->getBufferSize(), file, geometry, patches,
                         error))
      return makeError("{}", error);
    gemma::Tensor pixels({patches.numPatches(), vision.patchValues()});
    pixels.data = std::move(patches.pixels);
    llvm::Expected<gemma::Tensor> tokens = gemma::Interpreter::encodeImage(
        encode, [&](llvm::StringRef name) { return viewOf(checkpoint.find(name)); }, pixels,
        patches.positions);
    if (!tokens)
      return tokens.takeError();
    images.push_back(std::move(*tokens));
  }
  return images;
}

/// The soft tokens of each --audio clip, in order, by the interpreter: the tower runs on the
/// clip's valid frames.
llvm::Expected<std::vector<gemma::Tensor>> encodeAudio(const EvalOptions &options,
                                                       const LoadedModel &model) {
  const Checkpoint &checkpoint = model.checkpoint;
  mlir::OwningOpRef<mlir::ModuleOp> encoder = importAudioEncoder(*model.context, checkpoint);
  auto encode = encoder->lookupSymbol<mlir::func::FuncOp>("encode_audio");
  std::vector<gemma::Tensor> clips;
  for (const std::string &file : options.audio) {
    llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> bytes = readMedia("--audio", file);
    if (!bytes)
      return bytes.takeError();
    std::vector<float> samples;
    std::string error;
    if (!readWav(bytesOf(**bytes), (*bytes)->getBufferSize(), file, samples, error))
      return makeError("{}", error);
    AudioFeatures features = logMelFeatures(samples);
    int64_t valid = std::count(features.mask.begin(), features.mask.end(), uint8_t(1));
    if (valid == 0)
      return makeError("{}: {} samples are too short for one frame of audio features (at least "
                       "161 at 16 kHz)",
                       file, samples.size());
    if (features.truncated)
      llvm::errs() << fmt::format("note: {}: only the first 30 s are used\n", file);
    gemma::Tensor frames({valid, AudioFeatures::kMelBins});
    frames.data.assign(features.values.begin(),
                       features.values.begin() + valid * AudioFeatures::kMelBins);
    llvm::Expected<gemma::Tensor> tokens = gemma::Interpreter::encodeAudio(
        encode, [&](llvm::StringRef name) { return viewOf(checkpoint.find(name)); }, frames);
    if (!tokens)
      return tokens.takeError();
    clips.push_back(std::move(*tokens));
  }
  return clips;
}

/// Checks that the tower of `input` exists (and can run as the checkpoint asks).
llvm::Error checkTower(const MediaInputs &input, const Checkpoint &checkpoint) {
  const char *tower = input.image ? "vision" : "audio";
  if (!input.hasTower)
    return makeError("{}: {} has no {} tower (its config.json has no {}_config)", input.flag,
                     checkpoint.dir(), tower, tower);
  if (input.image && checkpoint.config().useBidirectionalAttention == "vision")
    return makeError("--image: {} asks for bidirectional attention among an image's tokens "
                     "(text_config.use_bidirectional_attention \"vision\", as 26B and 31B do), "
                     "which gemc does not do yet",
                     checkpoint.dir());
  return llvm::Error::success();
}

/// The soft tokens of every media file given, by the interpreter.
llvm::Expected<EncodedMedia> encodeMedia(const EvalOptions &options, const LoadedModel &model) {
  EncodedMedia encoded;
  for (const MediaInputs &input : mediaInputs(options, model.checkpoint.media())) {
    if (input.files.empty())
      continue;
    if (llvm::Error error = checkTower(input, model.checkpoint))
      return error;
    llvm::Expected<std::vector<gemma::Tensor>> tokens =
        input.image ? encodeImages(options, model) : encodeAudio(options, model);
    if (!tokens)
      return tokens.takeError();
    encoded[input.placeholder] = std::move(*tokens);
  }
  return encoded;
}

/// The ids of -p as the processor expands them, with the checkpoint's tokenizer: a <bos>,
/// then the text, each media text in it (<|image|>) taking the next file's soft tokens.
llvm::Expected<std::vector<int32_t>> expandedPromptIds(const EvalOptions &options,
                                                       const Checkpoint &checkpoint,
                                                       const EncodedMedia &encoded) {
  llvm::Expected<std::unique_ptr<Tokenizer>> tokenizer = loadTokenizer(checkpoint.dir());
  if (!tokenizer)
    return tokenizer.takeError();
  int32_t bos = (*tokenizer)->find("<bos>");
  if (bos < 0)
    return makeError("{}: the tokenizer has no <bos> token (use --tokens)", checkpoint.dir());
  std::vector<MediaSlot> slots;
  for (const MediaInputs &input : mediaInputs(options, checkpoint.media())) {
    bool named = options.prompt.find(input.text) != std::string::npos;
    if (input.files.empty() && (!named || !input.hasTower)) // without a tower: just text
      continue;
    if (!input.begin || !input.end)
      return makeError("-p: {}'s config.json has no ids for the markers around {} soft tokens "
                       "(boi_token_id/eoi_token_id, boa_token_id/eoa_token_id): give the "
                       "expanded ids with --tokens",
                       checkpoint.dir(), input.kind);
    slots.push_back({input.text, input.kind, input.flag, input.placeholder,
                     int32_t(*input.begin), int32_t(*input.end), tokenCounts(input, encoded)});
  }
  std::vector<int32_t> ids;
  std::string error;
  auto encode = [&](std::string_view text) { return (*tokenizer)->encode(text); };
  if (!expandMediaPrompt(options.prompt, bos, slots, encode, ids, error))
    return makeError("-p: {}", error);
  return ids;
}

/// The soft tokens of every media file, in the order the prompt's placeholder runs take them.
gemma::Tensor mergeSoftTokens(const std::vector<int32_t> &prompt, const EncodedMedia &encoded,
                              int64_t hidden) {
  gemma::Tensor all({0, hidden});
  std::map<int32_t, size_t> next;
  for (size_t i = 0; i < prompt.size(); ++i) {
    auto files = encoded.find(prompt[i]);
    if (files == encoded.end() || (i > 0 && prompt[i - 1] == prompt[i]))
      continue; // not the first id of a run
    const gemma::Tensor &tokens = files->second[next[prompt[i]]++];
    all.data.insert(all.data.end(), tokens.data.begin(), tokens.data.end());
    all.shape[0] += tokens.rows();
  }
  return all;
}

} // namespace

llvm::Error runEval(const EvalOptions &options) {
  bool media = !options.images.empty() || !options.audio.empty();
  llvm::Expected<LoadedModel> model =
      loadModel(options.checkpoint, options.quant, /*synthetic=*/false, media);
  if (!model)
    return model.takeError();
  if (llvm::Error error = model->checkpoint.checkWeightsFinite())
    return error;
  const Checkpoint &checkpoint = model->checkpoint;
  int64_t vocab = checkpoint.config().vocabSize;
  llvm::Expected<EncodedMedia> encoded = encodeMedia(options, *model);
  if (!encoded)
    return encoded.takeError();
  llvm::Expected<std::vector<int32_t>> prompt =
      options.prompt.empty() ? promptIds(options, checkpoint, *encoded)
                             : expandedPromptIds(options, checkpoint, *encoded);
  if (!prompt)
    return prompt.takeError();
  gemma::Tensor softTokens;
  if (!encoded->empty())
    softTokens = mergeSoftTokens(*prompt, *encoded, checkpoint.config().hiddenSize);
  auto forward = model->module->lookupSymbol<mlir::func::FuncOp>("forward");
  gemma::Interpreter interpreter(
      forward, [&](llvm::StringRef name) { return viewOf(model->checkpoint.find(name)); });
  auto evaluate = [&](const std::vector<int32_t> &ids, std::vector<float> &rows,
                      std::string &error) {
    // The prompt is evaluated first and whole: it takes the media; generated ids take none.
    llvm::Expected<gemma::Tensor> logits =
        interpreter.run(ids, interpreter.position() == 0 ? softTokens : gemma::Tensor());
    if (!logits) {
      error = llvm::toString(logits.takeError());
      return false;
    }
    rows.insert(rows.end(), logits->data.begin(), logits->data.end());
    return true;
  };
  std::vector<int32_t> generated;
  std::vector<float> logits;
  std::string error;
  Sampler greedy({});
  if (!generateTokens(evaluate, *prompt, options.generate, vocab, greedy, generated, logits,
                      error) ||
      (!options.dumpLogits.empty() && !writeLogits(options.dumpLogits, logits, error)))
    return makeError("{}", error);
  printTokenList(generated);
  return llvm::Error::success();
}

} // namespace gemc
