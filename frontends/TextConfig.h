//===- TextConfig.h - The Gemma 4 text model's config.json ---------------===//
//
// TextConfig holds every text_config field of gemma4-architecture.md §1.1 after validation, and
// derives the per-layer facts (LayerSpec) that nothing in Gemma 4 keeps uniform across layers:
// head size, KV heads, window, RoPE, MLP width, KV source. Fields absent from config.json take
// the Transformers class defaults; a field of the wrong type, a missing required field, or an
// inconsistent combination is an error naming the field.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <llvm/Support/Error.h>

#include <optional>
#include <string>
#include <vector>

namespace gemc {

enum class LayerType { Sliding, Full };
enum class RopeType { Default, Proportional };

struct RopeParams {
  RopeType type = RopeType::Default;
  double theta = 10000.0;
  double partialRotaryFactor = 1.0; // read by proportional RoPE only
};

/// What one decoder layer looks like; derived from TextConfig.
struct LayerSpec {
  LayerType type;
  int64_t headDim;
  int64_t numKvHeads;
  int64_t slidingWindow; // 0 on full layers
  RopeParams rope;
  int64_t mlpWidth;
  bool vFromK;                         // full layer with attention_k_eq_v: V is the raw K
  std::optional<int64_t> kvSourceLayer; // set on KV-shared layers
};

struct TextConfig {
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKvHeads = 0;
  int64_t headDim = 0;
  int64_t globalHeadDim = 512;
  std::optional<int64_t> numGlobalKvHeads;
  bool attentionKEqV = false;
  int64_t maxPositionEmbeddings = 131072;
  double rmsNormEps = 1e-6;
  int64_t padTokenId = 0, eosTokenId = 1, bosTokenId = 2;
  bool tieWordEmbeddings = true;
  RopeParams ropeSliding{RopeType::Default, 10000.0, 1.0};
  RopeParams ropeFull{RopeType::Proportional, 1e6, 0.25};
  int64_t slidingWindow = 512;
  std::vector<LayerType> layerTypes;
  std::optional<double> finalLogitSoftcapping;
  std::optional<std::string> useBidirectionalAttention;
  int64_t vocabSizePerLayerInput = 262144;
  int64_t hiddenSizePerLayerInput = 256;
  int64_t numKvSharedLayers = 0;
  bool useDoubleWideMlp = false;
  bool enableMoeBlock = false;
  int64_t numExperts = 0;
  int64_t topKExperts = 0;
  int64_t moeIntermediateSize = 0;

  /// Parses config.json text: `text_config` of a Gemma4ForConditionalGeneration config, or the
  /// top level of a gemma4_text config. `path` names the file in messages.
  static llvm::Expected<TextConfig> parse(llvm::StringRef json, const std::string &path);
  static llvm::Expected<TextConfig> load(const std::string &path);

  bool hasPle() const { return hiddenSizePerLayerInput > 0; }
  int64_t firstKvSharedLayer() const { return numLayers - numKvSharedLayers; }
  LayerSpec layer(int64_t index) const;
};

} // namespace gemc
