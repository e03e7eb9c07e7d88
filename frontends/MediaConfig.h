//===- MediaConfig.h - The vision and audio towers' config.json fields -----===//
//
// A Gemma4ForConditionalGeneration config.json has, besides `text_config`, a `vision_config`
// (every Gemma 4), an `audio_config` (E2B/E4B) and the media token ids at its top level
// (gemma4-architecture.md §4.1, §5.1). MediaConfig holds them after validation; a tower whose
// config is null or absent is not there. The image processor's default budget of soft tokens
// comes from processor_config.json when the checkpoint ships one.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <llvm/Support/Error.h>

#include <array>
#include <optional>
#include <string>

namespace gemc {

struct VisionConfig {
  int64_t hiddenSize = 0, intermediateSize = 0, numLayers = 0, numHeads = 0, headDim = 0;
  int64_t patchSize = 16, poolingKernel = 3, positionEmbeddingSize = 10240;
  double rmsNormEps = 1e-6, ropeTheta = 100.0;
  bool useClippedLinears = false, standardize = false;
  /// processor_config.json `image_processor.max_soft_tokens` (280 without that file).
  int64_t defaultSoftTokens = 280;

  int64_t patchValues() const { return 3 * patchSize * patchSize; }
};

struct AudioConfig {
  static constexpr int64_t kMelBins = 128; // the feature extractor's, fixed in Gemma 4
  int64_t hiddenSize = 0, numLayers = 0, numHeads = 0, outputProjDims = 0;
  std::array<int64_t, 2> subsamplingChannels = {128, 32};
  int64_t convKernelSize = 5, chunkSize = 12, contextLeft = 13, contextRight = 0;
  double logitCap = 50.0, rmsNormEps = 1e-6, residualWeight = 0.5;
  bool useClippedLinears = false;

  int64_t headDim() const { return hiddenSize / numHeads; }
  /// The width input_proj_linear reads: the mel bins after two stride-2 convolutions, times
  /// the channels of the second.
  int64_t subsampledWidth() const { return (kMelBins / 4) * subsamplingChannels[1]; }
};

struct MediaConfig {
  std::optional<VisionConfig> vision;
  std::optional<AudioConfig> audio;
  int64_t imageTokenId = 258880, audioTokenId = 258881, videoTokenId = 258884;
  std::optional<int64_t> boiTokenId, eoiTokenId, boaTokenId, eoaTokenId;

  /// Parses the top level of config.json (`path` names it in messages); `vocabSize` is the
  /// text model's, which the begin/end markers must lie in.
  static llvm::Expected<MediaConfig> parse(llvm::StringRef json, const std::string &path,
                                           int64_t vocabSize);
  /// config.json and, when the directory has one, processor_config.json.
  static llvm::Expected<MediaConfig> load(const std::string &dir, int64_t vocabSize);
};

} // namespace gemc
