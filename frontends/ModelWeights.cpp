//===- ModelWeights.cpp - The tensors a Gemma 4 text config implies -------===//
//
// Names and shapes follow gemma4-architecture.md §2.3; Linear weights are [out, in].
//
//===----------------------------------------------------------------------===//

#include "frontends/ModelWeights.h"

#include <fmt/format.h>

namespace gemc {
namespace {

AttentionWeights planAttention(const TextConfig &c, const LayerSpec &layer,
                               const std::string &p) {
  int64_t d = c.hiddenSize, hd = layer.headDim, q = c.numHeads * hd, kv = layer.numKvHeads * hd;
  AttentionWeights w;
  w.qProj = {p + "self_attn.q_proj.weight", {q, d}};
  w.qNorm = {p + "self_attn.q_norm.weight", {hd}};
  w.oProj = {p + "self_attn.o_proj.weight", {d, q}};
  if (layer.kvSourceLayer)
    return w;
  w.kProj = {p + "self_attn.k_proj.weight", {kv, d}};
  w.kNorm = {p + "self_attn.k_norm.weight", {hd}};
  if (!layer.vFromK)
    w.vProj = {p + "self_attn.v_proj.weight", {kv, d}};
  return w;
}

MoeWeights planMoe(const TextConfig &c, const std::string &p) {
  int64_t d = c.hiddenSize, e = c.numExperts, width = c.moeIntermediateSize;
  return {{p + "router.proj.weight", {e, d}},
          {p + "router.scale", {d}},
          {p + "router.per_expert_scale", {e}},
          {p + "experts.gate_up_proj", {e, 2 * width, d}},
          {p + "experts.down_proj", {e, d, width}},
          {p + "pre_feedforward_layernorm_2.weight", {d}},
          {p + "post_feedforward_layernorm_1.weight", {d}},
          {p + "post_feedforward_layernorm_2.weight", {d}}};
}

LayerWeights planLayer(const TextConfig &c, int64_t index, const std::string &prefix) {
  LayerSpec layer = c.layer(index);
  std::string p = fmt::format("{}layers.{}.", prefix, index);
  int64_t d = c.hiddenSize, width = layer.mlpWidth;
  LayerWeights w{{p + "input_layernorm.weight", {d}},
                 {p + "post_attention_layernorm.weight", {d}},
                 {p + "pre_feedforward_layernorm.weight", {d}},
                 {p + "post_feedforward_layernorm.weight", {d}},
                 {p + "layer_scalar", {1}},
                 planAttention(c, layer, p),
                 {p + "mlp.gate_proj.weight", {width, d}},
                 {p + "mlp.up_proj.weight", {width, d}},
                 {p + "mlp.down_proj.weight", {d, width}},
                 std::nullopt,
                 std::nullopt};
  if (c.enableMoeBlock)
    w.moe = planMoe(c, p);
  if (c.hasPle()) {
    int64_t ple = c.hiddenSizePerLayerInput;
    w.ple = PleLayerWeights{{p + "per_layer_input_gate.weight", {ple, d}},
                            {p + "per_layer_projection.weight", {d, ple}},
                            {p + "post_per_layer_input_norm.weight", {d}}};
  }
  return w;
}

} // namespace

ModelWeights planModelWeights(const TextConfig &c, const std::string &prefix) {
  ModelWeights w;
  w.prefix = prefix;
  w.embedTokens = {prefix + "embed_tokens.weight", {c.vocabSize, c.hiddenSize}};
  if (c.hasPle()) {
    int64_t all = c.numLayers * c.hiddenSizePerLayerInput;
    w.ple = PleWeights{{prefix + "embed_tokens_per_layer.weight", {c.vocabSizePerLayerInput, all}},
                       {prefix + "per_layer_model_projection.weight", {all, c.hiddenSize}},
                       {prefix + "per_layer_projection_norm.weight", {c.hiddenSizePerLayerInput}}};
  }
  for (int64_t i = 0; i < c.numLayers; ++i)
    w.layers.push_back(planLayer(c, i, prefix));
  w.finalNorm = {prefix + "norm.weight", {c.hiddenSize}};
  if (!c.tieWordEmbeddings)
    w.lmHead = TensorSpec{"lm_head.weight", {c.vocabSize, c.hiddenSize}};
  return w;
}

void ModelWeights::forEach(const std::function<void(const TensorSpec &)> &visit) const {
  auto visitOptional = [&](const std::optional<TensorSpec> &spec) {
    if (spec)
      visit(*spec);
  };
  visit(embedTokens);
  if (ple)
    for (const TensorSpec *spec : {&ple->table, &ple->modelProjection, &ple->projectionNorm})
      visit(*spec);
  for (const LayerWeights &l : layers) {
    for (const TensorSpec *spec : {&l.inputNorm, &l.postAttentionNorm, &l.preFeedforwardNorm,
                                   &l.postFeedforwardNorm, &l.layerScalar, &l.attention.qProj,
                                   &l.attention.qNorm, &l.attention.oProj, &l.mlpGate, &l.mlpUp,
                                   &l.mlpDown})
      visit(*spec);
    visitOptional(l.attention.kProj);
    visitOptional(l.attention.kNorm);
    visitOptional(l.attention.vProj);
    if (l.moe)
      for (const TensorSpec *spec :
           {&l.moe->routerProj, &l.moe->routerScale, &l.moe->perExpertScale, &l.moe->gateUpProj,
            &l.moe->downProj, &l.moe->preFeedforwardNorm2, &l.moe->postFeedforwardNorm1,
            &l.moe->postFeedforwardNorm2})
        visit(*spec);
    if (l.ple)
      for (const TensorSpec *spec : {&l.ple->inputGate, &l.ple->projection, &l.ple->postNorm})
        visit(*spec);
  }
  visit(finalNorm);
  visitOptional(lmHead);
}

} // namespace gemc
