//===- ImportCheckpoint.cpp - Checkpoint to gemma module ------------------===//
//
// Writes the decoder of gemma4-architecture.md §1.5 as gemma ops, one layer after another, with
// each layer's facts (head size, KV heads, window, RoPE, KV source, MLP width) spelled out as
// attributes and weights as gemma.weight ops typed from the checkpoint. Ops of layer i carry
// the location "layers.i" so that diagnostics point at the layer.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/ImportCheckpoint.h"

#include "dialects/gemma/GemmaOps.h"

#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/Func/IR/FuncOps.h>
#include <mlir/IR/Builders.h>

#include <cmath>

using namespace mlir;

namespace gemc {
namespace {

class ModuleImporter {
public:
  ModuleImporter(MLIRContext &context, const Checkpoint &checkpoint)
      : ckpt_(checkpoint), config_(checkpoint.config()), builder_(&context),
        loc_(builder_.getUnknownLoc()) {}

  OwningOpRef<ModuleOp> run(bool media);
  OwningOpRef<ModuleOp> visionEncoder();
  OwningOpRef<ModuleOp> audioEncoder();

private:
  /// The weights of clipped projections (none when they carry no bounds), then their bounds.
  SmallVector<Value> clipBounds(std::initializer_list<const ClippedLinearWeights *> linears);
  Value visionLayer(const VisionLayerWeights &w, Value x, Value positions);
  Value audioLayer(const AudioLayerWeights &w, Value x);
  Value weight(const TensorSpec &spec);
  Value rmsNorm(Value x, const TensorSpec *gain);
  Value add(Value a, Value b) { return arith::AddFOp::create(builder_, loc_, a, b); }
  Value attention(int64_t index, const AttentionWeights &w, Value x);
  Value feedForward(const LayerWeights &w, Value h);
  Value layer(int64_t index, Value h);

  RankedTensorType activations(int64_t width) {
    return RankedTensorType::get({ShapedType::kDynamic, width}, builder_.getF32Type());
  }

  const Checkpoint &ckpt_;
  const TextConfig &config_;
  OpBuilder builder_;
  Location loc_;
  Value ids_, startPos_, pleInputs_;
};

OwningOpRef<ModuleOp> ModuleImporter::run(bool media) {
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc_);
  builder_.setInsertionPointToEnd(module->getBody());
  auto idsType = RankedTensorType::get({ShapedType::kDynamic}, builder_.getI32Type());
  int64_t hidden = config_.hiddenSize;
  SmallVector<Type> inputs{idsType, builder_.getIndexType()};
  if (media)
    inputs.push_back(activations(hidden));
  auto function = func::FuncOp::create(builder_, loc_, "forward",
      builder_.getFunctionType(inputs, {activations(config_.vocabSize)}));
  Block *body = function.addEntryBlock();
  builder_.setInsertionPointToEnd(body);
  ids_ = body->getArgument(0);
  startPos_ = body->getArgument(1);
  // The media token ids, which stand for soft tokens and look up the pad row (§1.10).
  const MediaConfig &m = ckpt_.media();
  DenseI32ArrayAttr placeholders =
      media ? builder_.getDenseI32ArrayAttr({int32_t(m.imageTokenId), int32_t(m.audioTokenId),
                                             int32_t(m.videoTokenId)})
            : DenseI32ArrayAttr();

  const ModelWeights &w = ckpt_.weights();
  Value table = weight(w.embedTokens);
  Value h = gemma::EmbedOp::create(builder_, loc_, activations(hidden), ids_, table,
      media ? body->getArgument(2) : Value(),
      builder_.getF32FloatAttr(float(std::sqrt(double(hidden)))), placeholders);
  if (w.ple) {
    int64_t width = config_.hiddenSizePerLayerInput;
    auto type = RankedTensorType::get({ShapedType::kDynamic, config_.numLayers, width},
                                      builder_.getF32Type());
    pleInputs_ = gemma::PleInputsOp::create(builder_, loc_, type, ids_, h, weight(w.ple->table), weight(w.ple->modelProjection),
        weight(w.ple->projectionNorm), builder_.getF32FloatAttr(float(std::sqrt(double(width)))),
        builder_.getF64FloatAttr(config_.rmsNormEps), placeholders,
        media ? builder_.getI64IntegerAttr(config_.padTokenId) : IntegerAttr());
  }
  for (int64_t i = 0; i < config_.numLayers; ++i)
    h = layer(i, h);
  loc_ = builder_.getUnknownLoc();
  h = rmsNorm(h, &w.finalNorm);
  FloatAttr softcap;
  if (config_.finalLogitSoftcapping)
    softcap = builder_.getF64FloatAttr(*config_.finalLogitSoftcapping);
  Value logits = gemma::LmHeadOp::create(builder_, loc_, activations(config_.vocabSize), h,
                                                  w.lmHead ? weight(*w.lmHead) : table, softcap);
  func::ReturnOp::create(builder_, loc_, logits);
  return module;
}

OwningOpRef<ModuleOp> ModuleImporter::visionEncoder() {
  const VisionConfig &v = *ckpt_.media().vision;
  const VisionWeights &w = *ckpt_.weights().vision;
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc_);
  builder_.setInsertionPointToEnd(module->getBody());
  auto pixelsType =
      RankedTensorType::get({ShapedType::kDynamic, v.patchValues()}, builder_.getF32Type());
  auto positionsType = RankedTensorType::get({ShapedType::kDynamic, 2}, builder_.getI32Type());
  auto function = func::FuncOp::create(builder_, loc_, "encode_image",
      builder_.getFunctionType({pixelsType, positionsType}, {activations(config_.hiddenSize)}));
  Block *body = function.addEntryBlock();
  builder_.setInsertionPointToEnd(body);
  Value positions = body->getArgument(1);
  Value x = gemma::PatchEmbedOp::create(builder_, loc_, activations(v.hiddenSize),
                                        body->getArgument(0), positions,
                                        weight(w.patchProjection), weight(w.positionTable));
  for (size_t j = 0; j < w.layers.size(); ++j) {
    loc_ = NameLoc::get(builder_.getStringAttr("vision.layers." + std::to_string(j)));
    x = visionLayer(w.layers[j], x, positions);
  }
  loc_ = builder_.getUnknownLoc();
  Value stdBias = w.stdBias ? weight(*w.stdBias) : Value();
  Value stdScale = w.stdScale ? weight(*w.stdScale) : Value();
  Value pooled = gemma::VisionPoolOp::create(builder_, loc_, x.getType(), x, positions, stdBias,
                                            stdScale, builder_.getI64IntegerAttr(v.poolingKernel));
  Value tokens = gemma::MediaProjectionOp::create(builder_, loc_,
      activations(config_.hiddenSize), pooled, weight(w.embeddingProjection),
      builder_.getF64FloatAttr(v.rmsNormEps));
  func::ReturnOp::create(builder_, loc_, tokens);
  return module;
}

OwningOpRef<ModuleOp> ModuleImporter::audioEncoder() {
  const AudioConfig &a = *ckpt_.media().audio;
  const AudioWeights &w = *ckpt_.weights().audio;
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc_);
  builder_.setInsertionPointToEnd(module->getBody());
  auto function = func::FuncOp::create(builder_, loc_, "encode_audio",
      builder_.getFunctionType({activations(AudioConfig::kMelBins)}, {activations(config_.hiddenSize)}));
  Block *body = function.addEntryBlock();
  builder_.setInsertionPointToEnd(body);
  auto eps = builder_.getF64FloatAttr(a.rmsNormEps);
  Value x = gemma::AudioSubsampleOp::create(builder_, loc_, activations(a.hiddenSize),
      body->getArgument(0), weight(w.conv0), weight(w.norm0), weight(w.conv1), weight(w.norm1),
      weight(w.inputProjection), eps);
  for (size_t k = 0; k < w.layers.size(); ++k) {
    loc_ = NameLoc::get(builder_.getStringAttr("audio.layers." + std::to_string(k)));
    x = audioLayer(w.layers[k], x);
  }
  loc_ = builder_.getUnknownLoc();
  Value out = gemma::LinearOp::create(builder_, loc_, activations(a.outputProjDims), x,
                                      weight(w.outputProjection), weight(w.outputBias));
  Value tokens = gemma::MediaProjectionOp::create(builder_, loc_,
      activations(config_.hiddenSize), out, weight(w.embeddingProjection), eps);
  func::ReturnOp::create(builder_, loc_, tokens);
  return module;
}

Value ModuleImporter::audioLayer(const AudioLayerWeights &w, Value x) {
  const AudioConfig &a = *ckpt_.media().audio;
  auto eps = builder_.getF64FloatAttr(a.rmsNormEps);
  auto feedForward = [&](const AudioFeedForwardWeights &f, Value input) {
    return gemma::AudioFeedForwardOp::create(builder_, loc_, input.getType(), input,
        weight(f.preNorm), weight(f.up.weight), weight(f.down.weight), weight(f.postNorm),
        clipBounds({&f.up, &f.down}), builder_.getF64FloatAttr(a.residualWeight), eps);
  };
  auto norm = [&](Value input, const TensorSpec &gain) {
    return gemma::RMSNormOp::create(builder_, loc_, input.getType(), input, weight(gain), eps);
  };
  x = feedForward(w.feedForward1, x);
  Value attention = gemma::AudioAttentionOp::create(builder_, loc_, x.getType(),
      norm(x, w.preAttentionNorm), weight(w.qProj.weight), weight(w.kProj.weight),
      weight(w.vProj.weight), weight(w.post.weight), weight(w.relativeKProj),
      weight(w.perDimScale), clipBounds({&w.qProj, &w.kProj, &w.vProj, &w.post}),
      builder_.getI64IntegerAttr(a.numHeads), builder_.getI64IntegerAttr(a.contextLeft - 1),
      builder_.getF64FloatAttr(a.logitCap));
  x = add(x, norm(attention, w.postAttentionNorm));
  x = gemma::LightConvOp::create(builder_, loc_, x.getType(), x, weight(w.convPreNorm),
      weight(w.linearStart.weight), weight(w.depthwiseConv), weight(w.convNorm),
      weight(w.linearEnd.weight), clipBounds({&w.linearStart, &w.linearEnd}), eps);
  x = feedForward(w.feedForward2, x);
  return norm(x, w.outNorm);
}

SmallVector<Value>
ModuleImporter::clipBounds(std::initializer_list<const ClippedLinearWeights *> linears) {
  SmallVector<Value> bounds;
  for (const ClippedLinearWeights *linear : linears)
    if (linear->bounds)
      for (const TensorSpec &bound : *linear->bounds)
        bounds.push_back(weight(bound));
  return bounds;
}

Value ModuleImporter::visionLayer(const VisionLayerWeights &w, Value x, Value positions) {
  const VisionConfig &v = *ckpt_.media().vision;
  auto eps = builder_.getF64FloatAttr(v.rmsNormEps);
  auto norm = [&](Value input, const TensorSpec &gain) {
    return gemma::RMSNormOp::create(builder_, loc_, input.getType(), input, weight(gain), eps);
  };
  Value attention = gemma::VisionAttentionOp::create(builder_, loc_, x.getType(),
      norm(x, w.inputNorm), positions, weight(w.qProj.weight), weight(w.kProj.weight),
      weight(w.vProj.weight), weight(w.oProj.weight), weight(w.qNorm), weight(w.kNorm),
      clipBounds({&w.qProj, &w.kProj, &w.vProj, &w.oProj}),
      builder_.getI64IntegerAttr(v.numHeads), builder_.getI64IntegerAttr(v.headDim),
      builder_.getF64FloatAttr(v.ropeTheta), eps);
  x = add(x, norm(attention, w.postAttentionNorm));
  Value mlp = gemma::MlpOp::create(builder_, loc_, x.getType(), norm(x, w.preFeedforwardNorm),
                                   weight(w.gate.weight), weight(w.up.weight),
                                   weight(w.down.weight), clipBounds({&w.gate, &w.up, &w.down}));
  return add(x, norm(mlp, w.postFeedforwardNorm));
}

Value ModuleImporter::weight(const TensorSpec &spec) {
  const TensorInfo *tensor = ckpt_.find(spec.name);
  // The checkpoint was checked to hold bf16, f16 or f32 weights only.
  WeightFormat format = floatFormatOf(tensor->dtype).value_or(WeightFormat::F32);
  auto type =
      RankedTensorType::get(spec.shape, gemma::elementTypeOf(format, builder_.getContext()));
  return gemma::WeightOp::create(builder_, loc_, type, builder_.getStringAttr(spec.name),
                                 StringAttr(), StringAttr());
}

Value ModuleImporter::rmsNorm(Value x, const TensorSpec *gain) {
  return gemma::RMSNormOp::create(builder_, loc_, x.getType(), x,
                                           gain ? weight(*gain) : Value(),
                                           builder_.getF64FloatAttr(config_.rmsNormEps));
}

Value ModuleImporter::attention(int64_t index, const AttentionWeights &w, Value x) {
  LayerSpec spec = config_.layer(index);
  auto optionalWeight = [&](const std::optional<TensorSpec> &t) {
    return t ? weight(*t) : Value();
  };
  Value qProj = weight(w.qProj), qNorm = weight(w.qNorm), kProj = optionalWeight(w.kProj),
        kNorm = optionalWeight(w.kNorm), vProj = optionalWeight(w.vProj),
        oProj = weight(w.oProj);
  bool proportional = spec.rope.type == RopeType::Proportional;
  auto i64 = [&](int64_t v) { return builder_.getI64IntegerAttr(v); };
  return gemma::AttentionOp::create(builder_, loc_, x.getType(), x, startPos_, qProj, qNorm, kProj, kNorm, vProj, oProj, i64(index),
      i64(config_.numHeads), i64(spec.numKvHeads), i64(spec.headDim),
      spec.slidingWindow ? i64(spec.slidingWindow) : IntegerAttr(),
      gemma::RopeKindAttr::get(builder_.getContext(), proportional
                                                          ? gemma::RopeKind::Proportional
                                                          : gemma::RopeKind::Default),
      builder_.getF64FloatAttr(spec.rope.theta),
      proportional ? builder_.getF64FloatAttr(spec.rope.partialRotaryFactor) : FloatAttr(),
      spec.kvSourceLayer ? i64(*spec.kvSourceLayer) : IntegerAttr(),
      spec.vFromK ? builder_.getUnitAttr() : UnitAttr(),
      builder_.getF64FloatAttr(config_.rmsNormEps));
}

/// The dense MLP, plus the routed experts on MoE models; returns the residual-ready branch.
Value ModuleImporter::feedForward(const LayerWeights &w, Value h) {
  Value mlp = gemma::MlpOp::create(builder_, loc_, h.getType(), rmsNorm(h, &w.preFeedforwardNorm),
                                   weight(w.mlpGate), weight(w.mlpUp), weight(w.mlpDown),
                                   ValueRange());
  if (w.moe) {
    const MoeWeights &m = *w.moe;
    Value dense = rmsNorm(mlp, &m.postFeedforwardNorm1);
    Value experts = gemma::MoeOp::create(builder_, loc_, h.getType(), h, rmsNorm(h, &m.preFeedforwardNorm2), weight(m.routerProj),
        weight(m.routerScale), weight(m.perExpertScale), weight(m.gateUpProj),
        weight(m.downProj), builder_.getI64IntegerAttr(config_.topKExperts),
        builder_.getF64FloatAttr(config_.rmsNormEps));
    mlp = add(dense, rmsNorm(experts, &m.postFeedforwardNorm2));
  }
  return rmsNorm(mlp, &w.postFeedforwardNorm);
}

Value ModuleImporter::layer(int64_t index, Value h) {
  const LayerWeights &w = ckpt_.weights().layers[index];
  loc_ = NameLoc::get(builder_.getStringAttr("layers." + std::to_string(index)));
  Value a = attention(index, w.attention, rmsNorm(h, &w.inputNorm));
  h = add(h, rmsNorm(a, &w.postAttentionNorm));
  h = add(h, feedForward(w, h));
  if (w.ple) {
    Value branch = gemma::PleInjectOp::create(builder_, loc_, h.getType(), h, pleInputs_, weight(w.ple->inputGate), weight(w.ple->projection),
        builder_.getI64IntegerAttr(index));
    h = add(h, rmsNorm(branch, &w.ple->postNorm));
  }
  return gemma::LayerScalarOp::create(builder_, loc_, h.getType(), h, weight(w.layerScalar));
}

} // namespace

OwningOpRef<ModuleOp> importCheckpoint(MLIRContext &context, const Checkpoint &checkpoint,
                                       bool media) {
  return ModuleImporter(context, checkpoint).run(media);
}

OwningOpRef<ModuleOp> importVisionEncoder(MLIRContext &context, const Checkpoint &checkpoint) {
  return ModuleImporter(context, checkpoint).visionEncoder();
}

OwningOpRef<ModuleOp> importAudioEncoder(MLIRContext &context, const Checkpoint &checkpoint) {
  return ModuleImporter(context, checkpoint).audioEncoder();
}

} // namespace gemc
