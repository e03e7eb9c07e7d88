//===- ModelWeights.h - The tensors a Gemma 4 config implies -------------===//
//
// planModelWeights() lists every checkpoint tensor the text decoder and the vision and audio
// towers read, with the shape the config implies, grouped the way the model uses them. It is
// the one place that knows the checkpoint's tensor names: the checkpoint check and the importer
// both read it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontends/MediaConfig.h"
#include "frontends/TextConfig.h"

#include <array>
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

/// A Gemma4ClippableLinear: its weight, and with use_clipped_linears its four scalar bounds
/// (input_min, input_max, output_min, output_max).
struct ClippedLinearWeights {
  TensorSpec weight;
  std::optional<std::array<TensorSpec, 4>> bounds;
};

struct VisionLayerWeights {
  TensorSpec inputNorm, postAttentionNorm, preFeedforwardNorm, postFeedforwardNorm, qNorm, kNorm;
  ClippedLinearWeights qProj, kProj, vProj, oProj, gate, up, down;
};

/// model.vision_tower and its projector model.embed_vision (gemma4-architecture.md §2.3).
struct VisionWeights {
  TensorSpec patchProjection, positionTable;
  std::vector<VisionLayerWeights> layers;
  std::optional<TensorSpec> stdBias, stdScale; // standardize (26B/31B)
  TensorSpec embeddingProjection;
};

struct AudioFeedForwardWeights {
  TensorSpec preNorm, postNorm;
  ClippedLinearWeights up, down;
};

struct AudioLayerWeights {
  AudioFeedForwardWeights feedForward1, feedForward2;
  TensorSpec preAttentionNorm, postAttentionNorm, outNorm;
  ClippedLinearWeights qProj, kProj, vProj, post;
  TensorSpec relativeKProj, perDimScale;
  TensorSpec convPreNorm, convNorm, depthwiseConv;
  ClippedLinearWeights linearStart, linearEnd;
};

/// model.audio_tower and its projector model.embed_audio.
struct AudioWeights {
  TensorSpec conv0, norm0, conv1, norm1, inputProjection;
  std::vector<AudioLayerWeights> layers;
  TensorSpec outputProjection, outputBias, embeddingProjection;
};

struct ModelWeights {
  std::string prefix; // of the text model's tensor names
  TensorSpec embedTokens;
  std::optional<PleWeights> ple;
  std::vector<LayerWeights> layers;
  TensorSpec finalNorm;
  std::optional<TensorSpec> lmHead; // only when the embedding is not tied
  std::optional<VisionWeights> vision;
  std::optional<AudioWeights> audio;

  void forEach(const std::function<void(const TensorSpec &)> &visit) const;
};

/// `prefix` is "model.language_model." (multimodal checkpoints) or "model." (text-only).
ModelWeights planModelWeights(const TextConfig &config, const MediaConfig &media,
                              const std::string &prefix);

} // namespace gemc
