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

ClippedLinearWeights clippedLinear(const std::string &name, int64_t out, int64_t in, bool clipped) {
  ClippedLinearWeights w{{name + ".linear.weight", {out, in}}, std::nullopt};
  if (clipped)
    w.bounds = {{{name + ".input_min", {}},
                 {name + ".input_max", {}},
                 {name + ".output_min", {}},
                 {name + ".output_max", {}}}};
  return w;
}

VisionWeights planVision(const VisionConfig &v, int64_t textHidden) {
  const std::string tower = "model.vision_tower.";
  int64_t h = v.hiddenSize, inner = v.numHeads * v.headDim, mlp = v.intermediateSize;
  bool clip = v.useClippedLinears;
  VisionWeights w;
  w.patchProjection = {tower + "patch_embedder.input_proj.weight", {h, v.patchValues()}};
  w.positionTable = {tower + "patch_embedder.position_embedding_table",
                     {2, v.positionEmbeddingSize, h}};
  for (int64_t j = 0; j < v.numLayers; ++j) {
    std::string p = fmt::format("{}encoder.layers.{}.", tower, j);
    w.layers.push_back({{p + "input_layernorm.weight", {h}},
                        {p + "post_attention_layernorm.weight", {h}},
                        {p + "pre_feedforward_layernorm.weight", {h}},
                        {p + "post_feedforward_layernorm.weight", {h}},
                        {p + "self_attn.q_norm.weight", {v.headDim}},
                        {p + "self_attn.k_norm.weight", {v.headDim}},
                        clippedLinear(p + "self_attn.q_proj", inner, h, clip),
                        clippedLinear(p + "self_attn.k_proj", inner, h, clip),
                        clippedLinear(p + "self_attn.v_proj", inner, h, clip),
                        clippedLinear(p + "self_attn.o_proj", h, inner, clip),
                        clippedLinear(p + "mlp.gate_proj", mlp, h, clip),
                        clippedLinear(p + "mlp.up_proj", mlp, h, clip),
                        clippedLinear(p + "mlp.down_proj", h, mlp, clip)});
  }
  if (v.standardize) {
    w.stdBias = TensorSpec{tower + "std_bias", {h}};
    w.stdScale = TensorSpec{tower + "std_scale", {h}};
  }
  w.embeddingProjection = {"model.embed_vision.embedding_projection.weight", {textHidden, h}};
  return w;
}

AudioLayerWeights planAudioLayer(const AudioConfig &a, const std::string &p) {
  int64_t h = a.hiddenSize;
  bool clip = a.useClippedLinears;
  auto feedForward = [&](const std::string &f) {
    return AudioFeedForwardWeights{{f + "pre_layer_norm.weight", {h}},
                                   {f + "post_layer_norm.weight", {h}},
                                   clippedLinear(f + "ffw_layer_1", 4 * h, h, clip),
                                   clippedLinear(f + "ffw_layer_2", h, 4 * h, clip)};
  };
  return {feedForward(p + "feed_forward1."),
          feedForward(p + "feed_forward2."),
          {p + "norm_pre_attn.weight", {h}},
          {p + "norm_post_attn.weight", {h}},
          {p + "norm_out.weight", {h}},
          clippedLinear(p + "self_attn.q_proj", h, h, clip),
          clippedLinear(p + "self_attn.k_proj", h, h, clip),
          clippedLinear(p + "self_attn.v_proj", h, h, clip),
          clippedLinear(p + "self_attn.post", h, h, clip),
          {p + "self_attn.relative_k_proj.weight", {h, h}},
          {p + "self_attn.per_dim_scale", {a.headDim()}},
          {p + "lconv1d.pre_layer_norm.weight", {h}},
          {p + "lconv1d.conv_norm.weight", {h}},
          {p + "lconv1d.depthwise_conv1d.weight", {h, 1, a.convKernelSize}},
          clippedLinear(p + "lconv1d.linear_start", 2 * h, h, clip),
          clippedLinear(p + "lconv1d.linear_end", h, h, clip)};
}

AudioWeights planAudio(const AudioConfig &a, int64_t textHidden) {
  const std::string tower = "model.audio_tower.", sub = tower + "subsample_conv_projection.";
  auto [c0, c1] = a.subsamplingChannels;
  AudioWeights w;
  w.conv0 = {sub + "layer0.conv.weight", {c0, 1, 3, 3}};
  w.norm0 = {sub + "layer0.norm.weight", {c0}};
  w.conv1 = {sub + "layer1.conv.weight", {c1, c0, 3, 3}};
  w.norm1 = {sub + "layer1.norm.weight", {c1}};
  w.inputProjection = {sub + "input_proj_linear.weight", {a.hiddenSize, a.subsampledWidth()}};
  for (int64_t k = 0; k < a.numLayers; ++k)
    w.layers.push_back(planAudioLayer(a, fmt::format("{}layers.{}.", tower, k)));
  w.outputProjection = {tower + "output_proj.weight", {a.outputProjDims, a.hiddenSize}};
  w.outputBias = {tower + "output_proj.bias", {a.outputProjDims}};
  w.embeddingProjection = {"model.embed_audio.embedding_projection.weight",
                           {textHidden, a.outputProjDims}};
  return w;
}

void visitLinear(const ClippedLinearWeights &linear,
                 const std::function<void(const TensorSpec &)> &visit) {
  visit(linear.weight);
  if (linear.bounds)
    for (const TensorSpec &bound : *linear.bounds)
      visit(bound);
}

void visitVision(const VisionWeights &w, const std::function<void(const TensorSpec &)> &visit) {
  visit(w.patchProjection);
  visit(w.positionTable);
  for (const VisionLayerWeights &l : w.layers) {
    for (const TensorSpec *spec : {&l.inputNorm, &l.postAttentionNorm, &l.preFeedforwardNorm,
                                   &l.postFeedforwardNorm, &l.qNorm, &l.kNorm})
      visit(*spec);
    for (const ClippedLinearWeights *linear :
         {&l.qProj, &l.kProj, &l.vProj, &l.oProj, &l.gate, &l.up, &l.down})
      visitLinear(*linear, visit);
  }
  for (const std::optional<TensorSpec> *spec : {&w.stdBias, &w.stdScale})
    if (*spec)
      visit(**spec);
  visit(w.embeddingProjection);
}

void visitAudio(const AudioWeights &w, const std::function<void(const TensorSpec &)> &visit) {
  for (const TensorSpec *spec : {&w.conv0, &w.norm0, &w.conv1, &w.norm1, &w.inputProjection})
    visit(*spec);
  for (const AudioLayerWeights &l : w.layers) {
    for (const AudioFeedForwardWeights *f : {&l.feedForward1, &l.feedForward2}) {
      visit(f->preNorm);
      visit(f->postNorm);
      visitLinear(f->up, visit);
      visitLinear(f->down, visit);
    }
    for (const TensorSpec *spec :
         {&l.preAttentionNorm, &l.postAttentionNorm, &l.outNorm, &l.relativeKProj, &l.perDimScale,
          &l.convPreNorm, &l.convNorm, &l.depthwiseConv})
      visit(*spec);
    for (const ClippedLinearWeights *linear :
         {&l.qProj, &l.kProj, &l.vProj, &l.post, &l.linearStart, &l.linearEnd})
      visitLinear(*linear, visit);
  }
  for (const TensorSpec *spec : {&w.outputProjection, &w.outputBias, &w.embeddingProjection})
    visit(*spec);
}

} // namespace

ModelWeights planModelWeights(const TextConfig &c, const MediaConfig &media,
                              const std::string &prefix) {
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
  if (media.vision)
    w.vision = planVision(*media.vision, c.hiddenSize);
  if (media.audio)
    w.audio = planAudio(*media.audio, c.hiddenSize);
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
  if (vision)
    visitVision(*vision, visit);
  if (audio)
    visitAudio(*audio, visit);
}

} // namespace gemc
