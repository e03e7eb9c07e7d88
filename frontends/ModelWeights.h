//===- ModelWeights.h - The tensors a Gemma 4 text config implies --------===//
//
// planModelWeights() lists every checkpoint tensor the text decoder reads, with the shape the
// config implies, grouped the way the model uses them. It is the one place that knows the
// checkpoint's tensor names: the checkpoint check and the importer both read it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontends/TextConfig.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gemc {

struct TensorSpec {
  std::string name; // full checkpoint name, prefix included
  std::vector<int64_t> shape;
};

struct AttentionWeights {
  TensorSpec qProj, qNorm, oProj;
  std::optional<TensorSpec> kProj, kNorm; // absent on KV-shared layers
  std::optional<TensorSpec> vProj;        // absent on KV-shared and k_eq_v full layers
};

struct MoeWeights {
  TensorSpec routerProj, routerScale, perExpertScale, gateUpProj, downProj;
  TensorSpec preFeedforwardNorm2, postFeedforwardNorm1, postFeedforwardNorm2;
};

struct PleLayerWeights {
  TensorSpec inputGate, projection, postNorm;
};

struct LayerWeights {
  TensorSpec inputNorm, postAttentionNorm, preFeedforwardNorm, postFeedforwardNorm, layerScalar;
  AttentionWeights attention;
  TensorSpec mlpGate, mlpUp, mlpDown;
  std::optional<MoeWeights> moe;
  std::optional<PleLayerWeights> ple;
};

struct PleWeights {
  TensorSpec table, modelProjection, projectionNorm;
};

struct ModelWeights {
  std::string prefix; // of the text model's tensor names
  TensorSpec embedTokens;
  std::optional<PleWeights> ple;
  std::vector<LayerWeights> layers;
  TensorSpec finalNorm;
  std::optional<TensorSpec> lmHead; // only when the embedding is not tied

  void forEach(const std::function<void(const TensorSpec &)> &visit) const;
};

/// `prefix` is "model.language_model." (multimodal checkpoints) or "model." (text-only).
ModelWeights planModelWeights(const TextConfig &config, const std::string &prefix);

} // namespace gemc
