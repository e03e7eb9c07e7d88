//===- MediaConfig.cpp - The vision and audio towers' config.json fields ---===//

#include "frontends/MediaConfig.h"

#include "frontends/JsonFields.h"
#include "runtime/common/Error.h"
#include "runtime/common/SoftTokenBudgets.h"

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>

namespace gemc {
namespace {

/// Fails when `key` holds a string other than `expected`.
void expectString(FieldReader &r, llvm::StringRef key, llvm::StringRef expected) {
  std::optional<std::string> value;
  r.optionalString(key, value);
  if (value && *value != expected)
    r.fail(fmt::format("field '{}' is \"{}\"; Gemma 4 uses \"{}\"", r.field(key), *value,
                       expected.str()));
}

void readVisionRope(FieldReader &r, VisionConfig &v) {
  const llvm::json::Value *raw = r.raw("rope_parameters");
  if (!raw)
    return;
  const llvm::json::Object *object = raw->getAsObject();
  if (!object)
    return r.fail(fmt::format("field '{}': expected an object, found {}",
                              r.field("rope_parameters"), jsonKind(*raw)));
  FieldReader rope = r.nested(*object, "rope_parameters");
  rope.number("rope_theta", v.ropeTheta);
  std::optional<std::string> type;
  rope.optionalString("rope_type", type);
  if (type && *type != "default" && *type != "axial") // Transformers names the 2-D one either way
    rope.fail(fmt::format("field '{}': unsupported RoPE type \"{}\" (the vision tower's is "
                          "\"default\" or \"axial\")",
                          rope.field("rope_type"), *type));
  if (!(v.ropeTheta > 0))
    rope.fail(fmt::format("field '{}' must be positive", rope.field("rope_theta")));
}

VisionConfig readVision(FieldReader &r) {
  VisionConfig v;
  r.integer("hidden_size", v.hiddenSize, /*required=*/true);
  r.integer("intermediate_size", v.intermediateSize, true);
  r.integer("num_hidden_layers", v.numLayers, true);
  r.integer("num_attention_heads", v.numHeads, true);
  r.integer("head_dim", v.headDim, true);
  int64_t kvHeads = v.numHeads;
  r.integer("num_key_value_heads", kvHeads);
  r.integer("patch_size", v.patchSize);
  r.integer("pooling_kernel_size", v.poolingKernel);
  r.integer("position_embedding_size", v.positionEmbeddingSize);
  r.number("rms_norm_eps", v.rmsNormEps);
  r.boolean("use_clipped_linears", v.useClippedLinears);
  r.boolean("standardize", v.standardize);
  expectString(r, "hidden_activation", "gelu_pytorch_tanh");
  readVisionRope(r, v);
  for (auto [key, value] : {std::pair{"hidden_size", v.hiddenSize},
                            std::pair{"intermediate_size", v.intermediateSize},
                            std::pair{"num_attention_heads", v.numHeads},
                            std::pair{"head_dim", v.headDim},
                            std::pair{"patch_size", v.patchSize},
                            std::pair{"pooling_kernel_size", v.poolingKernel},
                            std::pair{"position_embedding_size", v.positionEmbeddingSize}})
    r.checkSize(key, value);
  r.checkSize("num_hidden_layers", v.numLayers);
  r.checkAtMost("num_hidden_layers", v.numLayers, kMaxLayers);
  r.checkAtMost("patch_size", v.patchSize, 1024);
  if (kvHeads != v.numHeads)
    r.fail(fmt::format("field '{}' is {} but the vision tower has as many KV heads as heads "
                       "({})",
                       r.field("num_key_value_heads"), kvHeads, v.numHeads));
  if (v.headDim % 4 != 0) // each image axis rotates half the channels, in pairs
    r.fail(fmt::format("field '{}' is {}; 2-D RoPE needs a multiple of 4", r.field("head_dim"),
                       v.headDim));
  if (!(v.rmsNormEps > 0))
    r.fail(fmt::format("field '{}' must be positive", r.field("rms_norm_eps")));
  return v;
}

void readChannels(FieldReader &r, AudioConfig &a) {
  const llvm::json::Value *raw = r.raw("subsampling_conv_channels");
  if (!raw)
    return;
  const llvm::json::Array *list = raw->getAsArray();
  std::optional<int64_t> first = list && list->size() == 2 ? (*list)[0].getAsInteger() : std::nullopt;
  std::optional<int64_t> second = list && list->size() == 2 ? (*list)[1].getAsInteger() : std::nullopt;
  if (!first || !second)
    return r.fail(fmt::format("field '{}': expected two integers",
                              r.field("subsampling_conv_channels")));
  a.subsamplingChannels = {*first, *second};
  // input_proj_linear reads (channels[0] / 4) x channels[1] values: Transformers sizes it from
  // the first channel count, which is only right when it equals the 128 mel bins.
  if (*first != 128)
    r.fail(fmt::format("field '{}': the first count is {}; Gemma 4's is 128 (the mel bins)",
                       r.field("subsampling_conv_channels"), *first));
  if (*second <= 0 || *second > kMaxDimension)
    r.fail(fmt::format("field '{}': the second count must be in [1, {}], found {}",
                       r.field("subsampling_conv_channels"), kMaxDimension, *second));
}

AudioConfig readAudio(FieldReader &r) {
  AudioConfig a;
  r.integer("hidden_size", a.hiddenSize, /*required=*/true);
  r.integer("num_hidden_layers", a.numLayers, true);
  r.integer("num_attention_heads", a.numHeads, true);
  r.integer("output_proj_dims", a.outputProjDims, true);
  r.integer("conv_kernel_size", a.convKernelSize);
  r.integer("attention_chunk_size", a.chunkSize);
  r.integer("attention_context_left", a.contextLeft);
  r.integer("attention_context_right", a.contextRight);
  r.number("attention_logit_cap", a.logitCap);
  r.number("rms_norm_eps", a.rmsNormEps);
  r.number("residual_weight", a.residualWeight);
  r.boolean("use_clipped_linears", a.useClippedLinears);
  expectString(r, "hidden_act", "silu");
  readChannels(r, a);
  for (auto [key, value] : {std::pair{"hidden_size", a.hiddenSize},
                            std::pair{"num_attention_heads", a.numHeads},
                            std::pair{"output_proj_dims", a.outputProjDims},
                            std::pair{"conv_kernel_size", a.convKernelSize},
                            std::pair{"attention_chunk_size", a.chunkSize},
                            std::pair{"attention_context_left", a.contextLeft}})
    r.checkSize(key, value);
  r.checkSize("num_hidden_layers", a.numLayers);
  r.checkAtMost("num_hidden_layers", a.numLayers, kMaxLayers);
  r.checkAtMost("conv_kernel_size", a.convKernelSize, 1024);
  r.checkAtMost("attention_chunk_size", a.chunkSize, 4096);
  r.checkAtMost("attention_context_left", a.contextLeft, 4096);
  if (a.chunkSize < a.contextLeft - 3) // Transformers' blocks then reach fewer distances
    r.fail(fmt::format("field '{}' is {}; gemc's audio attention needs at least "
                       "attention_context_left - 3 ({})",
                       r.field("attention_chunk_size"), a.chunkSize, a.contextLeft - 3));
  if (a.contextRight != 0)
    r.fail(fmt::format("field '{}' is {}; gemc supports Gemma 4's causal audio attention (0)",
                       r.field("attention_context_right"), a.contextRight));
  if (a.numHeads > 0 && a.hiddenSize % a.numHeads != 0)
    r.fail(fmt::format("field '{}' ({}) is not a multiple of num_attention_heads ({})",
                       r.field("hidden_size"), a.hiddenSize, a.numHeads));
  if (!(a.logitCap > 0) || !(a.rmsNormEps > 0))
    r.fail(fmt::format("fields '{}' and '{}' must be positive", r.field("attention_logit_cap"),
                       r.field("rms_norm_eps")));
  return a;
}

/// Reads `key` as an optional tower config object.
template <typename Config>
std::optional<Config> readTower(FieldReader &r, llvm::StringRef key,
                                Config (*read)(FieldReader &)) {
  const llvm::json::Value *raw = r.raw(key);
  if (!raw)
    return std::nullopt;
  if (!raw->getAsObject()) {
    r.fail(fmt::format("field '{}': expected an object or null, found {}", r.field(key),
                       jsonKind(*raw)));
    return std::nullopt;
  }
  FieldReader nested = r.nested(*raw->getAsObject(), key);
  return read(nested);
}

void readTokenIds(FieldReader &r, MediaConfig &m, int64_t vocabSize) {
  for (auto [key, id] : {std::pair{"image_token_id", &m.imageTokenId},
                         std::pair{"audio_token_id", &m.audioTokenId},
                         std::pair{"video_token_id", &m.videoTokenId}}) {
    r.integer(key, *id);
    if (*id < 0 || *id >= (int64_t(1) << 31))
      r.fail(fmt::format("field '{}' is {}, not a token id", r.field(key), *id));
  }
  for (auto [key, id] : {std::pair{"boi_token_id", &m.boiTokenId},
                         std::pair{"eoi_token_id", &m.eoiTokenId},
                         std::pair{"boa_token_id", &m.boaTokenId},
                         std::pair{"eoa_token_id", &m.eoaTokenId}}) {
    r.optionalInteger(key, *id);
    if (*id && (**id < 0 || **id >= vocabSize))
      r.fail(fmt::format("field '{}' is {}, outside the vocabulary [0, {})", r.field(key), **id,
                         vocabSize));
  }
}

} // namespace

llvm::Expected<MediaConfig> MediaConfig::parse(llvm::StringRef text, const std::string &path,
                                               int64_t vocabSize) {
  llvm::Expected<llvm::json::Value> json = parseJsonObject(text, path);
  if (!json)
    return json.takeError();
  MediaConfig m;
  std::optional<std::string> firstError;
  FieldReader r(*json->getAsObject(), path, "", firstError);
  m.vision = readTower(r, "vision_config", readVision);
  m.audio = readTower(r, "audio_config", readAudio);
  readTokenIds(r, m, vocabSize);
  if (llvm::Error error = r.takeError())
    return error;
  return m;
}

/// processor_config.json's image_processor.max_soft_tokens, when it is there.
llvm::Error readDefaultBudget(const std::string &path, VisionConfig &vision) {
  llvm::Expected<llvm::json::Value> json = loadJsonObject(path);
  if (!json)
    return json.takeError();
  const llvm::json::Object *images = json->getAsObject()->getObject("image_processor");
  if (!images)
    return llvm::Error::success();
  std::optional<std::string> firstError;
  FieldReader r(*images, path, "image_processor.", firstError);
  r.integer("max_soft_tokens", vision.defaultSoftTokens);
  if (!isSupportedSoftTokenBudget(vision.defaultSoftTokens))
    r.fail(fmt::format("field '{}' is {}; Gemma 4 supports 70, 140, 280, 560 and 1120",
                       r.field("max_soft_tokens"), vision.defaultSoftTokens));
  return r.takeError();
}

llvm::Expected<MediaConfig> MediaConfig::load(const std::string &dir, int64_t vocabSize) {
  std::string path = dir + "/config.json";
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError("{}: cannot open: {}", path, buffer.getError().message());
  llvm::Expected<MediaConfig> config = parse((*buffer)->getBuffer(), path, vocabSize);
  std::string processor = dir + "/processor_config.json";
  if (config && config->vision && llvm::sys::fs::exists(processor))
    if (llvm::Error error = readDefaultBudget(processor, *config->vision))
      return error;
  return config;
}

} // namespace gemc
