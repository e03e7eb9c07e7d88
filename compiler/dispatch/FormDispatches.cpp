//===- FormDispatches.cpp - gemma ops to exec dispatches --------------------===//
//
// Rewrites the gemma forward function into buffers and dispatches (ExecOps.td). Each gemma op
// becomes the dispatches its computation needs: a new dispatch starts wherever a step reads a
// result that other workgroups produced (another output channel of a projection, another
// token's K/V, the routing of all experts). Steps that only read their own token rows share a
// dispatch: the q/k/v projections, the three norms after them, RoPE and the cache store. MoE
// runs all (token, expert) pairs of a call in a fixed number of dispatches, so the dispatch
// list does not depend on the token count. The arithmetic of elementwise steps is written
// here, once, as the bodies of `exec.elementwise` ops; every target evaluates those bodies.
// A projection by a weight with rounded activations reads its input rounded to int8 blocks or
// bf16 (`exec.quantize_rows`), made once per input by a dispatch of its own just before the
// projections' dispatch (`<dispatch>.quantize` or `<dispatch>.bf16`): the rounding reads whole
// token rows, which other workers wrote.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"
#include "dialects/exec/ExecOps.h"
#include "dialects/gemma/GemmaOps.h"

#include <llvm/ADT/TypeSwitch.h>
#include <mlir/IR/ImplicitLocOpBuilder.h>

#include <fmt/format.h>

#include <cmath>

namespace gemc {
#define GEN_PASS_DEF_FORMDISPATCHES
#include "compiler/Passes.h.inc"
} // namespace gemc

using namespace mlir;

namespace gemc {
namespace {

ArrayRef<int64_t> shapeOf(Value value) { return cast<ShapedType>(value.getType()).getShape(); }

/// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) on an f32 scalar.
Value geluTanh(ImplicitLocOpBuilder &b, Value x) {
  auto c = [&](double v) { return arith::ConstantOp::create(b, b.getF32FloatAttr(float(v))); };
  Value cube = arith::MulFOp::create(b, arith::MulFOp::create(b, x, x), x);
  Value inner = arith::AddFOp::create(b, x, arith::MulFOp::create(b, c(0.044715), cube));
  Value t = math::TanhOp::create(b, arith::MulFOp::create(b, c(std::sqrt(2.0 / M_PI)), inner));
  Value half = arith::MulFOp::create(b, c(0.5), x);
  return arith::MulFOp::create(b, half, arith::AddFOp::create(b, c(1.0), t));
}

using ElementwiseBody = function_ref<Value(ImplicitLocOpBuilder &, ValueRange)>;

class DispatchFormer {
public:
  DispatchFormer(func::FuncOp forward, func::FuncOp formed, int64_t maxChunk)
      : forward_(forward), b_(formed.getLoc(), formed.getContext()), maxChunk_(maxChunk) {
    b_.setInsertionPointToStart(&formed.getBody().emplaceBlock());
  }

  LogicalResult run();

private:
  /// Opens a dispatch named `name` and emits `body` into it.
  void dispatch(const std::string &name, function_ref<void()> body);
  /// A scratch buffer of `element` (f32 by default) [T, trailing...].
  Value scratch(ArrayRef<int64_t> trailing, Type element = {});
  Value bufferOf(Value tensor) { return buffers_.lookup(tensor); }
  /// The exec.weight of a gemma.weight: one per tensor name.
  Value weight(Value tensor);
  /// The K or V region of `layer`'s cache.
  Value kvCache(int64_t layer, bool values, std::optional<int64_t> window, int64_t kvHeads,
                int64_t headDim);
  /// out = x w^T from row `firstRow` of w (per token's experts if given); a w with rounded
  /// activations reads x's rounded rows.
  void linear(Value x, Value w, Value out, Value experts, int64_t firstRow);
  /// x's rows (after its `leading` dimensions) rounded to `format` for the current dispatch's
  /// projections, made once by a dispatch of their own just before it.
  Value roundedActivations(Value x, int64_t leading, ActivationFormat format);
  void elementwise(ValueRange inputs, ValueRange scalars, Value out, ElementwiseBody body);
  /// out = a * constant, elementwise.
  void scale(Value a, double constant, Value out);
  /// out = gelu_tanh(a) * b, elementwise.
  void geluTimes(Value a, Value bValue, Value out);
  std::string opName(Operation *op, std::optional<int64_t> layer = std::nullopt);

  Value lowerEmbed(gemma::EmbedOp op);
  Value lowerRmsNorm(gemma::RMSNormOp op);
  Value lowerPleInputs(gemma::PleInputsOp op);
  Value lowerPleInject(gemma::PleInjectOp op);
  Value lowerAttention(gemma::AttentionOp op);
  Value lowerMlp(gemma::MlpOp op);
  Value lowerMoe(gemma::MoeOp op);
  Value lowerLayerScalar(gemma::LayerScalarOp op);
  Value lowerLmHead(gemma::LmHeadOp op);
  Value lowerAdd(arith::AddFOp op);

  func::FuncOp forward_;
  ImplicitLocOpBuilder b_;
  int64_t maxChunk_;
  Value ids_;
  Operation *lastWeight_ = nullptr;
  DenseMap<Value, Value> buffers_;              // gemma value -> its exec buffer
  llvm::StringMap<Value> weights_;              // tensor name -> exec.weight
  DenseMap<Value, ActivationFormat> rounding_;    // the weights that round their input
  DenseMap<int64_t, std::pair<Value, Value>> kv_; // layer -> its K and V regions
  exec::DispatchOp current_;                      // the dispatch being formed
  DenseMap<std::pair<Value, int>, Value> activations_; // its (input, format) -> rounded rows
  int64_t ops_ = 0;
};

LogicalResult DispatchFormer::run() {
  ids_ = exec::TokenIdsOp::create(
      b_, MemRefType::get({ShapedType::kDynamic}, b_.getI32Type()));
  for (Operation &op : forward_.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      if (!ret.getOperand(0).getDefiningOp<gemma::LmHeadOp>())
        return op.emitOpError("must return the lm_head logits");
      func::ReturnOp::create(b_);
      return success();
    }
    if (isa<gemma::WeightOp>(op))
      continue; // made when first used
    Value result = TypeSwitch<Operation *, Value>(&op)
                       .Case([&](gemma::EmbedOp o) { return lowerEmbed(o); })
                       .Case([&](gemma::RMSNormOp o) { return lowerRmsNorm(o); })
                       .Case([&](gemma::PleInputsOp o) { return lowerPleInputs(o); })
                       .Case([&](gemma::PleInjectOp o) { return lowerPleInject(o); })
                       .Case([&](gemma::AttentionOp o) { return lowerAttention(o); })
                       .Case([&](gemma::MlpOp o) { return lowerMlp(o); })
                       .Case([&](gemma::MoeOp o) { return lowerMoe(o); })
                       .Case([&](gemma::LayerScalarOp o) { return lowerLayerScalar(o); })
                       .Case([&](gemma::LmHeadOp o) { return lowerLmHead(o); })
                       .Case([&](arith::AddFOp o) { return lowerAdd(o); })
                       .Default([](Operation *) { return Value(); });
    if (!result)
      return op.emitOpError("cannot be split into dispatches");
    buffers_[op.getResult(0)] = result;
    ++ops_;
  }
  return forward_.emitOpError("has no return");
}

void DispatchFormer::dispatch(const std::string &name, function_ref<void()> body) {
  current_ = exec::DispatchOp::create(b_, b_.getStringAttr(name));
  activations_.clear();
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPointToStart(&current_.getBody().emplaceBlock());
  body();
}

void DispatchFormer::linear(Value x, Value w, Value out, Value experts, int64_t firstRow) {
  if (auto rounded = rounding_.find(w); rounded != rounding_.end())
    x = roundedActivations(x, experts && shapeOf(x).size() == 3 ? 2 : 1, rounded->second);
  exec::LinearOp::create(b_, x, w, out, experts, b_.getI64IntegerAttr(firstRow));
}

Value DispatchFormer::roundedActivations(Value x, int64_t leading, ActivationFormat format) {
  Value &rows = activations_[{x, int(format)}];
  if (rows)
    return rows;
  ArrayRef<int64_t> shape = shapeOf(x);
  int64_t columns = 1;
  for (int64_t dim : shape.drop_front(leading))
    columns *= dim;
  SmallVector<int64_t> trailing(shape.begin() + 1, shape.begin() + leading);
  bool int8 = format == ActivationFormat::Int8;
  trailing.push_back(int8 ? activationRowBytes(columns) : columns);
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPoint(current_);
  rows = scratch(trailing, int8 ? Type(b_.getI8Type()) : Type(b_.getBF16Type()));
  auto quantize = exec::DispatchOp::create(
      b_, b_.getStringAttr(current_.getName() + (int8 ? ".quantize" : ".bf16")));
  b_.setInsertionPointToStart(&quantize.getBody().emplaceBlock());
  exec::QuantizeRowsOp::create(b_, x, rows);
  return rows;
}

Value DispatchFormer::scratch(ArrayRef<int64_t> trailing, Type element) {
  SmallVector<int64_t> shape{ShapedType::kDynamic};
  shape.append(trailing.begin(), trailing.end());
  return exec::ScratchOp::create(b_, MemRefType::get(shape, element ? element : b_.getF32Type()),
                                 IntegerAttr());
}

Value DispatchFormer::weight(Value tensor) {
  auto op = tensor.getDefiningOp<gemma::WeightOp>();
  Value &placed = weights_[op.getName()];
  if (placed)
    return placed;
  auto type = cast<RankedTensorType>(op.getType());
  WeightFormat format = op.storedFormat();
  SmallVector<int64_t> shape(type.getShape());
  int64_t columns = shape.back();
  Type element = b_.getI8Type();
  if (isFloatFormat(format))
    element = gemma::elementTypeOf(format, b_.getContext());
  else
    shape.back() = int64_t(rowBytes(format, columns));
  // Weights go first in the function, in order of first use.
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPointAfter(lastWeight_ ? lastWeight_ : ids_.getDefiningOp());
  placed = exec::WeightOp::create(b_, MemRefType::get(shape, element), op.getNameAttr(),
                                  b_.getStringAttr(weightFormatName(format)),
                                  b_.getI64IntegerAttr(columns), IntegerAttr(), IntegerAttr());
  lastWeight_ = placed.getDefiningOp();
  if (op.activationFormat() != ActivationFormat::F32)
    rounding_[placed] = op.activationFormat();
  return placed;
}

Value DispatchFormer::kvCache(int64_t layer, bool values, std::optional<int64_t> window,
                              int64_t kvHeads, int64_t headDim) {
  auto [it, inserted] = kv_.try_emplace(layer);
  if (inserted) {
    // A ring of `window + maxChunk - 1` slots lets a chunk of maxChunk new tokens see `window`
    // keys each; a full layer keeps the whole context.
    int64_t ring = window ? *window + maxChunk_ - 1 : 0;
    auto type = MemRefType::get({ShapedType::kDynamic, kvHeads, headDim}, b_.getF32Type());
    auto region = [&](bool v) {
      return exec::KvCacheOp::create(b_, type, b_.getI64IntegerAttr(layer), b_.getBoolAttr(v),
                                     b_.getI64IntegerAttr(ring), IntegerAttr(), IntegerAttr());
    };
    it->second = {region(false), region(true)};
  }
  return values ? it->second.second : it->second.first;
}

void DispatchFormer::elementwise(ValueRange inputs, ValueRange scalars, Value out,
                                 ElementwiseBody body) {
  auto op = exec::ElementwiseOp::create(b_, inputs, scalars, out);
  Block &block = op.getBody().emplaceBlock();
  for (size_t i = 0; i < inputs.size() + scalars.size(); ++i)
    block.addArgument(b_.getF32Type(), b_.getLoc());
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPointToStart(&block);
  exec::YieldOp::create(b_, body(b_, block.getArguments()));
}

void DispatchFormer::scale(Value a, double constant, Value out) {
  elementwise({a}, {}, out, [&](ImplicitLocOpBuilder &b, ValueRange v) {
    Value c = arith::ConstantOp::create(b, b.getF32FloatAttr(float(constant)));
    return arith::MulFOp::create(b, v[0], c).getResult();
  });
}

void DispatchFormer::geluTimes(Value a, Value bValue, Value out) {
  elementwise({a, bValue}, {}, out, [](ImplicitLocOpBuilder &b, ValueRange v) {
    return arith::MulFOp::create(b, geluTanh(b, v[0]), v[1]).getResult();
  });
}

std::string DispatchFormer::opName(Operation *op, std::optional<int64_t> layer) {
  return fmt::format("{}_{}", op->getName().stripDialect().str(), layer ? *layer : ops_);
}

Value DispatchFormer::lowerEmbed(gemma::EmbedOp op) {
  if (op.getMedia()) // soft tokens: the interpreter merges them, no target yet
    return Value();
  Value out = scratch(shapeOf(op.getResult()).drop_front());
  dispatch(opName(op), [&] {
    exec::GatherRowsOp::create(b_, ids_, weight(op.getTable()), out, op.getScaleAttr());
  });
  return out;
}

Value DispatchFormer::lowerRmsNorm(gemma::RMSNormOp op) {
  Value out = scratch(shapeOf(op.getResult()).drop_front());
  Value gain = op.getWeight() ? weight(op.getWeight()) : Value();
  dispatch(opName(op), [&] {
    exec::RmsNormOp::create(b_, bufferOf(op.getInput()), gain, out, op.getEpsAttr());
  });
  return out;
}

Value DispatchFormer::lowerPleInputs(gemma::PleInputsOp op) {
  if (op.getPlaceholders())
    return Value();
  ArrayRef<int64_t> shape = shapeOf(op.getResult());
  int64_t hidden = shapeOf(op.getEmbeddings())[1];
  std::string name = opName(op);
  Value out = scratch(shape.drop_front()), tokens = scratch(shape.drop_front());
  dispatch(name + ".project", [&] {
    linear(bufferOf(op.getEmbeddings()), weight(op.getModelProjection()),
                           out, Value(), 0);
  });
  dispatch(name + ".scale", [&] { scale(out, std::pow(double(hidden), -0.5), out); });
  dispatch(name + ".norm", [&] {
    exec::RmsNormOp::create(b_, out, weight(op.getProjectionNorm()), out, op.getEpsAttr());
  });
  dispatch(name + ".mix", [&] {
    exec::GatherRowsOp::create(b_, ids_, weight(op.getPleTable()), tokens,
                               op.getTokenScaleAttr());
    elementwise({out, tokens}, {}, out, [](ImplicitLocOpBuilder &b, ValueRange v) {
      Value half = arith::ConstantOp::create(b, b.getF32FloatAttr(float(std::sqrt(0.5))));
      return arith::MulFOp::create(b, arith::AddFOp::create(b, v[0], v[1]), half).getResult();
    });
  });
  return out;
}

Value DispatchFormer::lowerPleInject(gemma::PleInjectOp op) {
  int64_t width = shapeOf(op.getInputGate())[0], layers = shapeOf(op.getPleInputs())[1];
  std::string name = opName(op, op.getLayer());
  Value gate = scratch({width}), out = scratch(shapeOf(op.getResult()).drop_front());
  dispatch(name + ".gate", [&] {
    linear(bufferOf(op.getHidden()), weight(op.getInputGate()), gate,
                           Value(), 0);
  });
  dispatch(name + ".mix", [&] {
    // ple_inputs[:, layer, :] as [T, width]
    Value ple = bufferOf(op.getPleInputs());
    auto layerRows = memref::SubViewOp::create(
        b_, MemRefType::get({ShapedType::kDynamic, width}, b_.getF32Type(),
                            StridedLayoutAttr::get(b_.getContext(), op.getLayer() * width,
                                                   {layers * width, 1})),
        ple,
        ArrayRef<OpFoldResult>{b_.getIndexAttr(0), b_.getIndexAttr(op.getLayer()),
                               b_.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{memref::DimOp::create(b_, ple, 0).getResult(),
                               b_.getIndexAttr(1), b_.getIndexAttr(width)},
        ArrayRef<OpFoldResult>{b_.getIndexAttr(1), b_.getIndexAttr(1), b_.getIndexAttr(1)});
    geluTimes(gate, layerRows, gate);
  });
  dispatch(name + ".project", [&] {
    linear(gate, weight(op.getProjection()), out, Value(), 0);
  });
  return out;
}

Value DispatchFormer::lowerAttention(gemma::AttentionOp op) {
  int64_t heads = op.getNumHeads(), kvHeads = op.getNumKvHeads(), headDim = op.getHeadDim();
  int64_t layer = op.getLayer(), owner = op.getKvSourceLayer().value_or(layer);
  std::optional<int64_t> window = op.getSlidingWindow();
  bool ownsKv = !op.getKvSourceLayer();
  std::string name = opName(op, layer);
  Value input = bufferOf(op.getInput());
  Value queries = scratch({heads, headDim}), keys, values;
  if (ownsKv) {
    keys = scratch({kvHeads, headDim});
    values = scratch({kvHeads, headDim});
  }
  dispatch(name + ".project", [&] {
    linear(input, weight(op.getQProj()), queries, Value(), 0);
    if (ownsKv) {
      linear(input, weight(op.getKProj()), keys, Value(), 0);
      if (!op.getVFromK())
        linear(input, weight(op.getVProj()), values, Value(), 0);
    }
  });
  dispatch(name + ".norm", [&] {
    exec::RmsNormOp::create(b_, queries, weight(op.getQNorm()), queries, op.getEpsAttr());
    if (ownsKv) {
      // V first: with v_from_k it is the raw K projection, before k_norm and RoPE.
      exec::RmsNormOp::create(b_, op.getVFromK() ? keys : values, Value(), values,
                              op.getEpsAttr());
      exec::RmsNormOp::create(b_, keys, weight(op.getKNorm()), keys, op.getEpsAttr());
    }
  });
  int64_t rotated = headDim / 2;
  if (op.getRope() == gemma::RopeKind::Proportional)
    rotated = int64_t(std::floor(op.getPartialRotaryFactor()->convertToDouble() * headDim / 2));
  Value cacheK = kvCache(owner, false, window, kvHeads, headDim);
  Value cacheV = kvCache(owner, true, window, kvHeads, headDim);
  dispatch(name + ".rope", [&] {
    auto rope = [&](Value rows) {
      if (rotated > 0)
        exec::RopeOp::create(b_, rows, op.getRopeThetaAttr(), b_.getI64IntegerAttr(rotated));
    };
    rope(queries);
    if (ownsKv) {
      rope(keys);
      exec::StoreKvOp::create(b_, keys, values, cacheK, cacheV);
    }
  });
  Value attended = scratch({heads, headDim});
  dispatch(name + ".attend", [&] {
    exec::AttendOp::create(b_, queries, cacheK, cacheV, attended,
                           window ? b_.getI64IntegerAttr(*window) : IntegerAttr());
  });
  Value out = scratch(shapeOf(op.getResult()).drop_front());
  dispatch(name + ".output", [&] {
    linear(attended, weight(op.getOProj()), out, Value(), 0);
  });
  return out;
}

Value DispatchFormer::lowerMlp(gemma::MlpOp op) {
  if (!op.getClip().empty()) // the towers' MLPs: the interpreter runs them, no target yet
    return Value();
  int64_t width = shapeOf(op.getGate())[0];
  std::string name = opName(op);
  Value input = bufferOf(op.getInput());
  Value gate = scratch({width}), up = scratch({width});
  Value out = scratch(shapeOf(op.getResult()).drop_front());
  dispatch(name + ".gate_up", [&] {
    linear(input, weight(op.getGate()), gate, Value(), 0);
    linear(input, weight(op.getUp()), up, Value(), 0);
  });
  dispatch(name + ".activate", [&] { geluTimes(gate, up, gate); });
  dispatch(name + ".down", [&] {
    linear(gate, weight(op.getDown()), out, Value(), 0);
  });
  return out;
}

Value DispatchFormer::lowerMoe(gemma::MoeOp op) {
  int64_t hidden = shapeOf(op.getRouterInput())[1], experts = shapeOf(op.getDown())[0],
          width = shapeOf(op.getDown())[2], topK = op.getTopK();
  std::string name = opName(op);
  Value z = scratch({hidden}), logits = scratch({experts});
  Value chosen = scratch({topK}, b_.getI64Type()), weights = scratch({topK});
  Value gate = scratch({topK, width}), up = scratch({topK, width});
  Value expertOut = scratch({topK, hidden}), out = scratch({hidden});
  // Router logits: rms_norm(r) * router_scale * hidden^-0.5 (the norm's gain is router_scale).
  dispatch(name + ".router_norm", [&] {
    exec::RmsNormOp::create(b_, bufferOf(op.getRouterInput()), weight(op.getRouterScale()), z,
                            op.getEpsAttr());
    scale(z, std::pow(double(hidden), -0.5), z);
  });
  dispatch(name + ".router", [&] {
    linear(z, weight(op.getRouterProj()), logits, Value(), 0);
  });
  dispatch(name + ".route", [&] {
    exec::RouteOp::create(b_, logits, weight(op.getPerExpertScale()), chosen, weights);
  });
  Value gateUp = weight(op.getGateUp());
  dispatch(name + ".gate_up", [&] {
    Value input = bufferOf(op.getExpertInput());
    linear(input, gateUp, gate, chosen, 0);
    linear(input, gateUp, up, chosen, width);
  });
  dispatch(name + ".activate", [&] { geluTimes(gate, up, gate); });
  dispatch(name + ".down", [&] {
    linear(gate, weight(op.getDown()), expertOut, chosen, 0);
  });
  dispatch(name + ".combine", [&] {
    exec::CombineExpertsOp::create(b_, expertOut, weights, out);
  });
  return out;
}

Value DispatchFormer::lowerLayerScalar(gemma::LayerScalarOp op) {
  Value out = scratch(shapeOf(op.getResult()).drop_front());
  dispatch(opName(op), [&] {
    elementwise({bufferOf(op.getInput())}, {weight(op.getScalar())}, out,
                [](ImplicitLocOpBuilder &b, ValueRange v) {
                  return arith::MulFOp::create(b, v[0], v[1]).getResult();
                });
  });
  return out;
}

Value DispatchFormer::lowerLmHead(gemma::LmHeadOp op) {
  int64_t vocab = shapeOf(op.getTable())[0];
  Value logits = exec::LogitsOp::create(
      b_, MemRefType::get({ShapedType::kDynamic, vocab}, b_.getF32Type()));
  dispatch("lm_head", [&] {
    linear(bufferOf(op.getInput()), weight(op.getTable()), logits, Value(),
                           0);
  });
  if (std::optional<APFloat> cap = op.getSoftcap())
    dispatch("lm_head.softcap", [&] {
      double c = cap->convertToDouble();
      elementwise({logits}, {}, logits, [&](ImplicitLocOpBuilder &b, ValueRange v) {
        auto constant = [&](double x) {
          return arith::ConstantOp::create(b, b.getF32FloatAttr(float(x)));
        };
        Value t = math::TanhOp::create(b, arith::MulFOp::create(b, v[0], constant(1.0 / c)));
        return arith::MulFOp::create(b, t, constant(c)).getResult();
      });
    });
  return logits;
}

Value DispatchFormer::lowerAdd(arith::AddFOp op) {
  Value out = scratch(shapeOf(op.getResult()).drop_front());
  dispatch(opName(op), [&] {
    elementwise({bufferOf(op.getLhs()), bufferOf(op.getRhs())}, {}, out,
                [](ImplicitLocOpBuilder &b, ValueRange v) {
                  return arith::AddFOp::create(b, v[0], v[1]).getResult();
                });
  });
  return out;
}

struct FormDispatchesPass : impl::FormDispatchesBase<FormDispatchesPass> {
  using FormDispatchesBase::FormDispatchesBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    if (!forward) {
      module.emitError("no forward function to split into dispatches");
      return signalPassFailure();
    }
    if (maxChunk < 1) {
      module.emitError("max-chunk must be at least 1");
      return signalPassFailure();
    }
    OpBuilder builder(forward);
    auto formed = func::FuncOp::create(builder, forward.getLoc(), "forward",
                                       builder.getFunctionType({}, {}));
    DispatchFormer former(forward, formed, maxChunk);
    if (failed(former.run())) {
      formed.erase();
      return signalPassFailure();
    }
    forward.erase();
    module->setAttr(kMaxChunkAttr, builder.getI64IntegerAttr(maxChunk));
  }
};

} // namespace
} // namespace gemc
