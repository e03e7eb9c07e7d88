//===- GemmaOps.cpp - Verifiers of the gemma dialect ------------------------===//
//
// Each verifier checks that the shapes of an op's operands agree with each other and with its
// attributes, so a module that verifies can be executed without further shape checks. Weight
// shapes are [out, in] as in the checkpoint. Token counts (dimension 0 of activations) may be
// dynamic; where two are static they must agree.
//
//===----------------------------------------------------------------------===//

#include "dialects/gemma/GemmaOps.h"

#include <mlir/IR/Builders.h>
#include <mlir/IR/ImplicitLocOpBuilder.h>
#include <mlir/IR/OpImplementation.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

using namespace mlir;

namespace gemc::gemma {
namespace {

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<ShapedType>(value.getType()).getShape();
}

std::string formatDims(ArrayRef<int64_t> dims) {
  std::vector<std::string> parts;
  for (int64_t dim : dims)
    parts.push_back(ShapedType::isDynamic(dim) ? "?" : std::to_string(dim));
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

/// Checks that `value` has exactly the shape `expected`; `?` in `expected` matches anything.
LogicalResult expectShape(Operation *op, StringRef what, Value value,
                          ArrayRef<int64_t> expected) {
  ArrayRef<int64_t> shape = shapeOf(value);
  bool matches = shape.size() == expected.size();
  for (size_t i = 0; matches && i < shape.size(); ++i)
    matches = ShapedType::isDynamic(expected[i]) || ShapedType::isDynamic(shape[i]) ||
              shape[i] == expected[i];
  if (matches)
    return success();
  return op->emitOpError() << what << " has shape " << formatDims(shape) << ", expected "
                           << formatDims(expected);
}

LogicalResult expectRank(Operation *op, StringRef what, Value value, int64_t rank) {
  if (int64_t(shapeOf(value).size()) == rank)
    return success();
  return op->emitOpError() << what << " must have rank " << rank << ", found "
                           << formatDims(shapeOf(value));
}

LogicalResult expectPositive(Operation *op, StringRef what, double value) {
  if (value > 0)
    return success();
  return op->emitOpError() << what << " must be positive, found " << value;
}

constexpr int64_t kAny = ShapedType::kDynamic;

/// Clip bounds are absent or four scalars per projection.
LogicalResult verifyClipBounds(Operation *op, OperandRange bounds, int64_t projections) {
  if (!bounds.empty() && int64_t(bounds.size()) != 4 * projections)
    return op->emitOpError() << "takes no clip bounds or " << 4 * projections << " (four per "
                             << "projection), found " << bounds.size();
  for (Value bound : bounds)
    if (failed(expectShape(op, "a clip bound", bound, {})))
      return failure();
  return success();
}

/// `positions` is [N, 2] for the N rows of `input`.
LogicalResult verifyPositions(Operation *op, Value input, Value positions) {
  return expectShape(op, "positions", positions, {shapeOf(input)[0], 2});
}

} // namespace

WeightFormat floatFormatOf(Type element) {
  return element.isBF16() ? WeightFormat::BF16
         : element.isF16() ? WeightFormat::F16
                           : WeightFormat::F32;
}

Type elementTypeOf(WeightFormat floatFormat, MLIRContext *context) {
  Builder b(context);
  switch (floatFormat) {
  case WeightFormat::BF16: return b.getBF16Type();
  case WeightFormat::F16: return b.getF16Type();
  default: return b.getF32Type();
  }
}

WeightFormat WeightOp::storedFormat() {
  if (std::optional<StringRef> format = getFormat())
    if (std::optional<WeightFormat> parsed = parseWeightFormat(*format))
      return *parsed;
  return floatFormatOf(getType().getElementType());
}

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty checkpoint tensor name");
  std::optional<StringRef> format = getFormat();
  std::optional<WeightFormat> parsed = format ? parseWeightFormat(*format) : std::nullopt;
  if (format && !parsed)
    return emitOpError() << "has unknown format '" << *format << "' (known: "
                         << weightFormatNames() << ")";
  if (parsed && !isFloatFormat(*parsed) && getType().getRank() < 2)
    return emitOpError() << "format '" << *format << "' quantizes rows: it needs a matrix, "
                         << "found " << formatDims(getType().getShape());
  std::optional<StringRef> activations = getActivations();
  if (!activations)
    return success();
  std::optional<ActivationFormat> rounding = parseActivationFormat(*activations);
  if (!rounding || *rounding == ActivationFormat::F32)
    return emitOpError() << "has unknown activations '" << *activations
                         << "' (known: int8, bf16)";
  if (!roundsActivationsFor(*rounding, storedFormat()))
    return emitOpError() << "activations '" << *activations << "' need "
                         << (*rounding == ActivationFormat::Int8 ? "a quantized" : "the bf16")
                         << " format, not " << weightFormatName(storedFormat());
  return success();
}

ActivationFormat WeightOp::activationFormat() {
  std::optional<StringRef> activations = getActivations();
  std::optional<ActivationFormat> parsed =
      activations ? parseActivationFormat(*activations) : std::nullopt;
  return parsed.value_or(ActivationFormat::F32);
}

LogicalResult EmbedOp::verify() {
  if (failed(expectRank(*this, "table", getTable(), 2)))
    return failure();
  int64_t tokens = shapeOf(getIds())[0], hidden = shapeOf(getTable())[1];
  if (failed(expectShape(*this, "result", getResult(), {tokens, hidden})))
    return failure();
  if (bool(getMedia()) != bool(getPlaceholders()))
    return emitOpError("takes media rows and placeholder ids together or neither");
  if (Value media = getMedia())
    if (failed(expectShape(*this, "media", media, {kAny, hidden})))
      return failure();
  return expectPositive(*this, "scale", getScale().convertToDouble());
}

LogicalResult RMSNormOp::verify() {
  if (getResult().getType() != getInput().getType())
    return emitOpError("result type must equal the input type");
  if (shapeOf(getInput()).empty())
    return emitOpError("input must have rank >= 1");
  if (getWeight() &&
      failed(expectShape(*this, "weight", getWeight(), {shapeOf(getInput()).back()})))
    return failure();
  return expectPositive(*this, "eps", getEps().convertToDouble());
}

LogicalResult PleInputsOp::verify() {
  if (failed(expectRank(*this, "embeddings", getEmbeddings(), 2)) ||
      failed(expectRank(*this, "result", getResult(), 3)))
    return failure();
  int64_t tokens = shapeOf(getIds())[0], hidden = shapeOf(getEmbeddings())[1];
  ArrayRef<int64_t> result = shapeOf(getResult());
  int64_t layers = result[1], width = result[2];
  if (ShapedType::isDynamic(layers) || ShapedType::isDynamic(width))
    return emitOpError("result dimensions 1 (layers) and 2 (width) must be static");
  if (failed(expectShape(*this, "embeddings", getEmbeddings(), {tokens, hidden})) ||
      failed(expectShape(*this, "ple_table", getPleTable(), {kAny, layers * width})) ||
      failed(expectShape(*this, "model_projection", getModelProjection(),
                         {layers * width, hidden})) ||
      failed(expectShape(*this, "projection_norm", getProjectionNorm(), {width})) ||
      failed(expectShape(*this, "result", getResult(), {tokens, layers, width})))
    return failure();
  if (failed(expectPositive(*this, "token_scale", getTokenScale().convertToDouble())))
    return failure();
  if (bool(getPadId()) != bool(getPlaceholders()))
    return emitOpError("takes placeholder ids and pad_id together or neither");
  return expectPositive(*this, "eps", getEps().convertToDouble());
}

LogicalResult PleInjectOp::verify() {
  if (getResult().getType() != getHidden().getType())
    return emitOpError("result type must equal the hidden type");
  if (failed(expectRank(*this, "hidden", getHidden(), 2)) ||
      failed(expectRank(*this, "ple_inputs", getPleInputs(), 3)))
    return failure();
  int64_t tokens = shapeOf(getHidden())[0], hidden = shapeOf(getHidden())[1];
  int64_t layers = shapeOf(getPleInputs())[1], width = shapeOf(getPleInputs())[2];
  if (ShapedType::isDynamic(layers) || ShapedType::isDynamic(width))
    return emitOpError("ple_inputs dimensions 1 (layers) and 2 (width) must be static");
  if (failed(expectShape(*this, "ple_inputs", getPleInputs(), {tokens, layers, width})) ||
      failed(expectShape(*this, "input_gate", getInputGate(), {width, hidden})) ||
      failed(expectShape(*this, "projection", getProjection(), {hidden, width})))
    return failure();
  if (getLayer() < 0 || getLayer() >= layers)
    return emitOpError() << "layer " << getLayer() << " is outside the " << layers
                         << " layers of ple_inputs";
  return success();
}

namespace {

/// The attention op of layer `layer` in the same block, or null.
AttentionOp findAttentionOfLayer(AttentionOp op, int64_t layer) {
  for (Operation &other : *op->getBlock())
    if (auto attention = dyn_cast<AttentionOp>(other);
        attention && attention != op && attention.getLayer() == layer)
      return attention;
  return nullptr;
}

/// A KV-shared layer reads the cache its source wrote: the source must come earlier, own its
/// K/V, and have the same cache layout and mask.
LogicalResult verifyKvSource(AttentionOp op, int64_t sourceLayer) {
  if (op.getKProj() || op.getKNorm() || op.getVProj() || op.getVFromK())
    return op.emitOpError("with kv_source_layer must have no k, v projections and no v_from_k");
  if (sourceLayer >= op.getLayer())
    return op.emitOpError() << "kv_source_layer " << sourceLayer
                            << " must be an earlier layer than " << op.getLayer();
  AttentionOp source = findAttentionOfLayer(op, sourceLayer);
  if (!source || !source->isBeforeInBlock(op))
    return op.emitOpError() << "kv_source_layer " << sourceLayer
                            << " has no attention op before this one in the block";
  if (source.getKvSourceLayer())
    return op.emitOpError() << "kv_source_layer " << sourceLayer
                            << " is itself KV-shared; name the layer that owns the cache";
  if (source.getNumKvHeads() != op.getNumKvHeads() || source.getHeadDim() != op.getHeadDim() ||
      source.getSlidingWindow() != op.getSlidingWindow())
    return op.emitOpError() << "kv_source_layer " << sourceLayer
                            << " differs in num_kv_heads, head_dim or sliding_window";
  return success();
}

LogicalResult verifyOwnKv(AttentionOp op, int64_t hidden, int64_t kvWidth) {
  if (!op.getKProj() || !op.getKNorm())
    return op.emitOpError("needs k_proj and k_norm unless kv_source_layer is set");
  if (bool(op.getVProj()) == op.getVFromK())
    return op.emitOpError("needs exactly one of a v_proj operand and the v_from_k attribute");
  if (failed(expectShape(op, "k_proj", op.getKProj(), {kvWidth, hidden})) ||
      failed(expectShape(op, "k_norm", op.getKNorm(), {op.getHeadDim()})))
    return failure();
  if (op.getVProj())
    return expectShape(op, "v_proj", op.getVProj(), {kvWidth, hidden});
  return success();
}

LogicalResult verifyRope(AttentionOp op) {
  if (failed(expectPositive(op, "rope_theta", op.getRopeTheta().convertToDouble())))
    return failure();
  std::optional<APFloat> factor = op.getPartialRotaryFactorAttr()
                                      ? std::optional(op.getPartialRotaryFactorAttr().getValue())
                                      : std::nullopt;
  if (op.getRope() == RopeKind::Default)
    return factor ? op.emitOpError("partial_rotary_factor applies to proportional RoPE only")
                  : success();
  if (!factor || !(factor->convertToDouble() > 0 && factor->convertToDouble() <= 1))
    return op.emitOpError("proportional RoPE needs partial_rotary_factor in (0, 1]");
  return success();
}

} // namespace

LogicalResult AttentionOp::verify() {
  if (getResult().getType() != getInput().getType())
    return emitOpError("result type must equal the input type");
  if (failed(expectRank(*this, "input", getInput(), 2)))
    return failure();
  int64_t hidden = shapeOf(getInput())[1], heads = getNumHeads(), kvHeads = getNumKvHeads(),
          headDim = getHeadDim();
  if (getLayer() < 0)
    return emitOpError("layer must not be negative");
  if (heads <= 0)
    return emitOpError() << "num_heads must be positive, found " << heads;
  if (kvHeads <= 0 || heads % kvHeads)
    return emitOpError() << "num_kv_heads (" << kvHeads << ") must be positive and divide "
                         << "num_heads (" << heads << ")";
  if (headDim <= 0 || headDim % 2)
    return emitOpError() << "head_dim must be positive and even, found " << headDim;
  if (getSlidingWindow() && *getSlidingWindow() < 1)
    return emitOpError() << "sliding_window must be at least 1, found " << *getSlidingWindow();
  if (failed(expectPositive(*this, "eps", getEps().convertToDouble())) ||
      failed(verifyRope(*this)))
    return failure();
  if (failed(expectShape(*this, "q_proj", getQProj(), {heads * headDim, hidden})) ||
      failed(expectShape(*this, "q_norm", getQNorm(), {headDim})) ||
      failed(expectShape(*this, "o_proj", getOProj(), {hidden, heads * headDim})))
    return failure();
  if (AttentionOp twin = findAttentionOfLayer(*this, getLayer());
      twin && twin->isBeforeInBlock(*this))
    return emitOpError() << "layer " << getLayer() << " already has an attention op";
  if (std::optional<int64_t> source = getKvSourceLayer())
    return verifyKvSource(*this, *source);
  return verifyOwnKv(*this, hidden, kvHeads * headDim);
}

LogicalResult MlpOp::verify() {
  if (getResult().getType() != getInput().getType())
    return emitOpError("result type must equal the input type");
  if (failed(expectRank(*this, "input", getInput(), 2)) ||
      failed(expectRank(*this, "gate", getGate(), 2)))
    return failure();
  int64_t hidden = shapeOf(getInput())[1], width = shapeOf(getGate())[0];
  if (failed(expectShape(*this, "gate", getGate(), {width, hidden})) ||
      failed(expectShape(*this, "up", getUp(), {width, hidden})) ||
      failed(expectShape(*this, "down", getDown(), {hidden, width})))
    return failure();
  return verifyClipBounds(*this, getClip(), 3);
}

LogicalResult MoeOp::verify() {
  if (getResult().getType() != getRouterInput().getType() ||
      getExpertInput().getType() != getRouterInput().getType())
    return emitOpError("router_input, expert_input and result must have one type");
  if (failed(expectRank(*this, "router_input", getRouterInput(), 2)) ||
      failed(expectRank(*this, "down", getDown(), 3)))
    return failure();
  int64_t hidden = shapeOf(getRouterInput())[1], experts = shapeOf(getDown())[0],
          width = shapeOf(getDown())[2];
  if (failed(expectShape(*this, "router_proj", getRouterProj(), {experts, hidden})) ||
      failed(expectShape(*this, "router_scale", getRouterScale(), {hidden})) ||
      failed(expectShape(*this, "per_expert_scale", getPerExpertScale(), {experts})) ||
      failed(expectShape(*this, "gate_up", getGateUp(), {experts, 2 * width, hidden})) ||
      failed(expectShape(*this, "down", getDown(), {experts, hidden, width})))
    return failure();
  if (getTopK() < 1 || getTopK() > experts)
    return emitOpError() << "top_k (" << getTopK() << ") must be between 1 and the " << experts
                         << " experts";
  return expectPositive(*this, "eps", getEps().convertToDouble());
}

LogicalResult LayerScalarOp::verify() {
  if (getResult().getType() != getInput().getType())
    return emitOpError("result type must equal the input type");
  return expectShape(*this, "scalar", getScalar(), {1});
}

LogicalResult LmHeadOp::verify() {
  if (failed(expectRank(*this, "input", getInput(), 2)) ||
      failed(expectRank(*this, "table", getTable(), 2)))
    return failure();
  int64_t tokens = shapeOf(getInput())[0];
  if (failed(expectShape(*this, "table", getTable(), {kAny, shapeOf(getInput())[1]})) ||
      failed(expectShape(*this, "result", getResult(), {tokens, shapeOf(getTable())[0]})))
    return failure();
  if (getSoftcap())
    return expectPositive(*this, "softcap", getSoftcap()->convertToDouble());
  return success();
}

LogicalResult PatchEmbedOp::verify() {
  if (failed(expectRank(*this, "pixels", getPixels(), 2)) ||
      failed(expectRank(*this, "table", getTable(), 3)) ||
      failed(verifyPositions(*this, getPixels(), getPositions())))
    return failure();
  int64_t width = shapeOf(getTable())[2];
  if (failed(expectShape(*this, "projection", getProjection(), {width, shapeOf(getPixels())[1]})) ||
      failed(expectShape(*this, "table", getTable(), {2, kAny, width})))
    return failure();
  return expectShape(*this, "result", getResult(), {shapeOf(getPixels())[0], width});
}

LogicalResult VisionAttentionOp::verify() {
  if (getResult().getType() != getInput().getType())
    return emitOpError("result type must equal the input type");
  if (failed(expectRank(*this, "input", getInput(), 2)) ||
      failed(verifyPositions(*this, getInput(), getPositions())))
    return failure();
  int64_t hidden = shapeOf(getInput())[1], headDim = getHeadDim(),
          inner = getNumHeads() * headDim;
  if (getNumHeads() < 1 || headDim < 4 || headDim % 4 != 0)
    return emitOpError() << "needs heads >= 1 and a head_dim that is a multiple of 4, found "
                         << getNumHeads() << " x " << headDim;
  for (auto [what, weight] : {std::pair{"q_proj", getQProj()}, std::pair{"k_proj", getKProj()},
                              std::pair{"v_proj", getVProj()}})
    if (failed(expectShape(*this, what, weight, {inner, hidden})))
      return failure();
  if (failed(expectShape(*this, "o_proj", getOProj(), {hidden, inner})) ||
      failed(expectShape(*this, "q_norm", getQNorm(), {headDim})) ||
      failed(expectShape(*this, "k_norm", getKNorm(), {headDim})) ||
      failed(expectPositive(*this, "rope_theta", getRopeTheta().convertToDouble())) ||
      failed(expectPositive(*this, "eps", getEps().convertToDouble())))
    return failure();
  return verifyClipBounds(*this, getClip(), 4);
}

LogicalResult VisionPoolOp::verify() {
  if (failed(expectRank(*this, "input", getInput(), 2)) ||
      failed(verifyPositions(*this, getInput(), getPositions())))
    return failure();
  int64_t width = shapeOf(getInput())[1];
  if (getKernel() < 1)
    return emitOpError() << "kernel must be positive, found " << getKernel();
  if (Value bias = getStdBias())
    if (failed(expectShape(*this, "std_bias", bias, {width})) ||
        failed(expectShape(*this, "std_scale", getStdScale(), {width})))
      return failure();
  return expectShape(*this, "result", getResult(), {kAny, width});
}

LogicalResult MediaProjectionOp::verify() {
  if (failed(expectRank(*this, "input", getInput(), 2)) ||
      failed(expectRank(*this, "projection", getProjection(), 2)))
    return failure();
  if (failed(expectShape(*this, "projection", getProjection(), {kAny, shapeOf(getInput())[1]})))
    return failure();
  if (failed(expectShape(*this, "result", getResult(),
                         {shapeOf(getInput())[0], shapeOf(getProjection())[0]})))
    return failure();
  return expectPositive(*this, "eps", getEps().convertToDouble());
}

LogicalResult LinearOp::verify() {
  if (failed(expectRank(*this, "input", getInput(), 2)) ||
      failed(expectRank(*this, "weight", getWeight(), 2)))
    return failure();
  int64_t out = shapeOf(getWeight())[0];
  if (failed(expectShape(*this, "weight", getWeight(), {kAny, shapeOf(getInput())[1]})) ||
      failed(expectShape(*this, "result", getResult(), {shapeOf(getInput())[0], out})))
    return failure();
  if (Value bias = getBias())
    return expectShape(*this, "bias", bias, {out});
  return success();
}

/// The audio tower's activations: [T, width] in and out, the result typed as the input.
static LogicalResult verifyAudioStep(Operation *op, Value input, Value result) {
  if (result.getType() != input.getType())
    return op->emitOpError("result type must equal the input type");
  return expectRank(op, "input", input, 2);
}

LogicalResult AudioSubsampleOp::verify() {
  if (failed(expectRank(*this, "features", getFeatures(), 2)) ||
      failed(expectRank(*this, "conv0", getConv0(), 4)) ||
      failed(expectRank(*this, "conv1", getConv1(), 4)) ||
      failed(expectRank(*this, "projection", getProjection(), 2)))
    return failure();
  int64_t mels = shapeOf(getFeatures())[1], c0 = shapeOf(getConv0())[0],
          c1 = shapeOf(getConv1())[0], hidden = shapeOf(getProjection())[0];
  int64_t quarter = ((mels + 1) / 2 + 1) / 2; // the mel bins after two stride-2 steps
  if (failed(expectShape(*this, "conv0", getConv0(), {c0, 1, 3, 3})) ||
      failed(expectShape(*this, "norm0", getNorm0(), {c0})) ||
      failed(expectShape(*this, "conv1", getConv1(), {c1, c0, 3, 3})) ||
      failed(expectShape(*this, "norm1", getNorm1(), {c1})) ||
      failed(expectShape(*this, "projection", getProjection(), {hidden, quarter * c1})) ||
      failed(expectShape(*this, "result", getResult(), {kAny, hidden})))
    return failure();
  return expectPositive(*this, "eps", getEps().convertToDouble());
}

LogicalResult AudioFeedForwardOp::verify() {
  if (failed(verifyAudioStep(*this, getInput(), getResult())) ||
      failed(expectRank(*this, "up", getUp(), 2)))
    return failure();
  int64_t hidden = shapeOf(getInput())[1], inner = shapeOf(getUp())[0];
  if (failed(expectShape(*this, "pre_norm", getPreNorm(), {hidden})) ||
      failed(expectShape(*this, "up", getUp(), {inner, hidden})) ||
      failed(expectShape(*this, "down", getDown(), {hidden, inner})) ||
      failed(expectShape(*this, "post_norm", getPostNorm(), {hidden})) ||
      failed(expectPositive(*this, "eps", getEps().convertToDouble())))
    return failure();
  return verifyClipBounds(*this, getClip(), 2);
}

LogicalResult AudioAttentionOp::verify() {
  if (failed(verifyAudioStep(*this, getInput(), getResult())))
    return failure();
  int64_t hidden = shapeOf(getInput())[1], heads = getNumHeads();
  if (heads < 1 || hidden % heads != 0 || hidden / heads < 2)
    return emitOpError() << "width " << hidden << " must split into " << heads << " heads";
  for (auto [what, weight] : {std::pair{"q_proj", getQProj()}, std::pair{"k_proj", getKProj()},
                              std::pair{"v_proj", getVProj()}, std::pair{"post", getPost()},
                              std::pair{"relative_k_proj", getRelativeKProj()}})
    if (failed(expectShape(*this, what, weight, {hidden, hidden})))
      return failure();
  if (failed(expectShape(*this, "per_dim_scale", getPerDimScale(), {hidden / heads})) ||
      failed(expectPositive(*this, "window", double(getWindow()))) ||
      failed(expectPositive(*this, "logit_cap", getLogitCap().convertToDouble())))
    return failure();
  return verifyClipBounds(*this, getClip(), 4);
}

LogicalResult LightConvOp::verify() {
  if (failed(verifyAudioStep(*this, getInput(), getResult())) ||
      failed(expectRank(*this, "depthwise", getDepthwise(), 3)))
    return failure();
  int64_t hidden = shapeOf(getInput())[1], kernel = shapeOf(getDepthwise())[2];
  if (failed(expectShape(*this, "pre_norm", getPreNorm(), {hidden})) ||
      failed(expectShape(*this, "linear_start", getLinearStart(), {2 * hidden, hidden})) ||
      failed(expectShape(*this, "depthwise", getDepthwise(), {hidden, 1, kernel})) ||
      failed(expectShape(*this, "conv_norm", getConvNorm(), {hidden})) ||
      failed(expectShape(*this, "linear_end", getLinearEnd(), {hidden, hidden})) ||
      failed(expectPositive(*this, "eps", getEps().convertToDouble())))
    return failure();
  return verifyClipBounds(*this, getClip(), 2);
}

} // namespace gemc::gemma

#define GET_OP_CLASSES
#include "dialects/gemma/GemmaOps.cpp.inc"
