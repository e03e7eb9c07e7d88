//===- EvalCommand.cpp - gemc eval: the reference interpreter ---------------===//

#include "compiler/import/ImportCheckpoint.h"
#include "dialects/gemma/interpreter/Interpreter.h"
#include "runtime/common/Error.h"
#include "runtime/media/Image.h"
#include "runtime/media/MediaPrompt.h"
#include "tools/gemc/Commands.h"
#include "tools/gemc/Common.h"
#include "tools/runner/Generation.h"

#include <llvm/Support/MemoryBuffer.h>

#include <limits>

namespace gemc {
namespace {

/// The prompt of --tokens: ids in the vocabulary, and with images the image placeholder id.
llvm::Expected<std::vector<int32_t>> promptIds(const EvalOptions &options,
                                               const Checkpoint &checkpoint) {
  int64_t vocab = checkpoint.config().vocabSize;
  int32_t image = int32_t(checkpoint.media().imageTokenId);
  llvm::Expected<std::vector<int32_t>> ids =
      parseTokenIds(options.tokens, std::numeric_limits<int32_t>::max(), "--tokens");
  if (!ids)
    return ids.takeError();
  for (size_t i = 0; i < ids->size(); ++i) {
    int32_t id = (*ids)[i];
    if (id == image && checkpoint.media().vision && options.images.empty())
      return makeError("--tokens: entry {} is the image placeholder id {}: give the images "
                       "with --image",
                       i, id);
    if (id >= vocab && (id != image || options.images.empty()))
      return makeError("--tokens: token id {} (entry {}) is outside the vocabulary [0, {}){}",
                       id, i, vocab,
                       options.images.empty()
                           ? ""
                           : fmt::format(" and is not the image placeholder id {}", image));
  }
  return ids;
}

/// The soft tokens of every --image, in order, by the interpreter; checked against the runs
/// of the image placeholder id in `prompt`.
llvm::Expected<gemma::Tensor> imageSoftTokens(const EvalOptions &options, const LoadedModel &model,
                                              const std::vector<int32_t> &prompt) {
  const Checkpoint &checkpoint = model.checkpoint;
  const std::optional<VisionConfig> &vision = checkpoint.media().vision;
  if (!vision)
    return makeError("--image: {} has no vision tower (its config.json has no vision_config)",
                     checkpoint.dir());
  if (checkpoint.config().useBidirectionalAttention == "vision")
    return makeError("--image: {} asks for bidirectional attention among an image's tokens "
                     "(text_config.use_bidirectional_attention \"vision\", as 26B and 31B do), "
                     "which gemc does not do yet",
                     checkpoint.dir());
  VisionGeometry geometry{vision->patchSize, vision->poolingKernel,
                          options.imageTokens ? options.imageTokens : vision->defaultSoftTokens};
  mlir::OwningOpRef<mlir::ModuleOp> encoder = importVisionEncoder(*model.context, checkpoint);
  auto encode = encoder->lookupSymbol<mlir::func::FuncOp>("encode_image");
  auto weights = [&](llvm::StringRef name) { return viewOf(checkpoint.find(name)); };
  std::vector<gemma::Tensor> images;
  std::vector<MediaTokens> counts;
  for (const std::string &file : options.images) {
    auto bytes = llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
                                             /*RequiresNullTerminator=*/false);
    if (!bytes)
      return makeError("--image {}: cannot open: {}", file, bytes.getError().message());
    ImagePatches patches;
    std::string error;
    const auto *data = reinterpret_cast<const uint8_t *>((*bytes)->getBufferStart());
    if (!preprocessImage(data, (*bytes)->getBufferSize(), file, geometry, patches, error))
      return makeError("{}", error);
    gemma::Tensor pixels({patches.numPatches(), vision->patchValues()});
    pixels.data = std::move(patches.pixels);
    llvm::Expected<gemma::Tensor> tokens =
        gemma::Interpreter::encodeImage(encode, weights, pixels, patches.positions);
    if (!tokens)
      return tokens.takeError();
    counts.push_back({file, tokens->rows()});
    images.push_back(std::move(*tokens));
  }
  std::string error;
  if (!checkMediaRuns(prompt, int32_t(checkpoint.media().imageTokenId), counts, "--tokens",
                      "image", error))
    return makeError("{}", error);
  gemma::Tensor all({0, checkpoint.config().hiddenSize});
  for (const gemma::Tensor &image : images) {
    all.data.insert(all.data.end(), image.data.begin(), image.data.end());
    all.shape[0] += image.rows();
  }
  return all;
}

} // namespace

llvm::Error runEval(const EvalOptions &options) {
  llvm::Expected<LoadedModel> model = loadModel(options.checkpoint, options.quant,
                                                /*synthetic=*/false, !options.images.empty());
  if (!model)
    return model.takeError();
  if (llvm::Error error = model->checkpoint.checkWeightsFinite())
    return error;
  int64_t vocab = model->checkpoint.config().vocabSize;
  llvm::Expected<std::vector<int32_t>> prompt = promptIds(options, model->checkpoint);
  if (!prompt)
    return prompt.takeError();
  gemma::Tensor media;
  if (!options.images.empty()) {
    llvm::Expected<gemma::Tensor> images = imageSoftTokens(options, *model, *prompt);
    if (!images)
      return images.takeError();
    media = std::move(*images);
  }
  auto forward = model->module->lookupSymbol<mlir::func::FuncOp>("forward");
  gemma::Interpreter interpreter(
      forward, [&](llvm::StringRef name) { return viewOf(model->checkpoint.find(name)); });
  auto evaluate = [&](const std::vector<int32_t> &ids, std::vector<float> &rows,
                      std::string &error) {
    // The prompt is evaluated first and whole: it takes the media; generated ids take none.
    llvm::Expected<gemma::Tensor> logits =
        interpreter.run(ids, interpreter.position() == 0 ? media : gemma::Tensor());
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
