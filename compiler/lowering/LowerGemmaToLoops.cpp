//===- LowerGemmaToLoops.cpp - gemma ops to memref/scf/vector code --------===//
//
// Rewrites the gemma forward function into `gemc_forward`, a function on buffers made of scf
// loops, vector loads/FMAs/reductions, arith and math ops. Weights become views of one weight
// section at the offsets of WeightLayout; each attention layer reads and writes its region of one
// KV-cache buffer at the offsets of KvCachePlan; activations get buffers allocated per call and
// freed after their last use. All shapes except the token count are constants, so every loop
// has static bounds and vector tails are static (KernelBuilder). The lowering goes op by op in
// program order: each gemma op maps to one short emitter below.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/LowerGemmaToLoops.h"

#include "compiler/lowering/KernelBuilder.h"
#include "compiler/plan/MemoryPlan.h"
#include "dialects/gemma/GemmaOps.h"

#include <llvm/ADT/TypeSwitch.h>
#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/Math/IR/Math.h>
#include <mlir/Dialect/SCF/IR/SCF.h>
#include <mlir/Dialect/Vector/IR/VectorOps.h>

#include <cmath>

using namespace mlir;

namespace gemc {
namespace {

ArrayRef<int64_t> shapeOf(Value value) { return cast<ShapedType>(value.getType()).getShape(); }

class ForwardLowering {
public:
  ForwardLowering(func::FuncOp forward, func::FuncOp lowered, const CpuLoweringOptions &options)
      : forward_(forward), b_(lowered.getLoc(), lowered.getContext()),
        k_(b_, options.vectorWidth), weights_(planWeightLayout(forward)),
        kv_(planKvCache(forward, options.maxChunk)) {
    Block *entry = lowered.addEntryBlock();
    b_.setInsertionPointToStart(entry);
    ids_ = entry->getArgument(0);
    startPos_ = entry->getArgument(1);
    contextLength_ = entry->getArgument(2);
    weightSection_ = entry->getArgument(3);
    kvCache_ = entry->getArgument(4);
    logits_ = entry->getArgument(5);
  }

  LogicalResult run();

private:
  Value buffer(Value tensor) { return buffers_.lookup(tensor); }
  Value alloc(Value result) {
    SmallVector<int64_t> trailing(shapeOf(result).drop_front());
    return k_.allocRows(tokens_, trailing);
  }
  /// A 2-D [rows, last] view of an activation buffer.
  Value rows2d(Value tensor) { return k_.flattenRows(buffer(tensor)); }
  Value copyOf(Value tensor);
  Value constantTable(const std::string &name, ArrayRef<float> values);
  Value kvRegion(int64_t layer, bool values);
  void rope(Value heads, gemma::AttentionOp op);

  Value lowerWeight(gemma::WeightOp op);
  Value lowerEmbed(gemma::EmbedOp op);
  Value lowerRmsNorm(gemma::RMSNormOp op);
  Value lowerPleInputs(gemma::PleInputsOp op);
  Value lowerPleInject(gemma::PleInjectOp op);
  Value lowerAttention(gemma::AttentionOp op);
  void appendKv(gemma::AttentionOp op);
  Value lowerMlp(gemma::MlpOp op);
  Value lowerMoe(gemma::MoeOp op);
  Value lowerLayerScalar(gemma::LayerScalarOp op);
  Value lowerLmHead(gemma::LmHeadOp op);
  Value lowerAdd(arith::AddFOp op);

  func::FuncOp forward_;
  ImplicitLocOpBuilder b_;
  KernelBuilder k_;
  WeightLayout weights_;
  KvCachePlan kv_;
  Value ids_, startPos_, contextLength_, weightSection_, kvCache_, logits_, tokens_;
  DenseMap<Value, Value> buffers_;   // gemma tensor value -> buffer
  DenseSet<Value> owned_;            // buffers this function allocated
};

LogicalResult ForwardLowering::run() {
  Block &body = forward_.getBody().front();
  tokens_ = memref::DimOp::create(b_, ids_, 0);
  // Free each activation buffer right after its last use.
  DenseMap<Operation *, SmallVector<Value>> lastUses;
  for (Operation &op : body)
    for (Value operand : op.getOperands())
      if (isa<RankedTensorType>(operand.getType())) {
        for (auto &[user, values] : lastUses)
          llvm::erase(values, operand);
        lastUses[&op].push_back(operand);
      }

  for (Operation &op : body) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      if (buffer(ret.getOperand(0)) != logits_)
        memref::CopyOp::create(b_, buffer(ret.getOperand(0)), logits_);
      break;
    }
    Value result = TypeSwitch<Operation *, Value>(&op)
                       .Case([&](gemma::WeightOp o) { return lowerWeight(o); })
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
      return op.emitOpError("has no CPU lowering");
    buffers_[op.getResult(0)] = result;
    if (!isa<gemma::WeightOp>(op) && result != logits_)
      owned_.insert(result);
    for (Value dead : lastUses.lookup(&op))
      if (owned_.contains(buffer(dead)))
        memref::DeallocOp::create(b_, buffer(dead));
  }
  func::ReturnOp::create(b_);
  return success();
}

Value ForwardLowering::copyOf(Value tensor) {
  Value copy = alloc(tensor);
  memref::CopyOp::create(b_, buffer(tensor), copy);
  return copy;
}

Value ForwardLowering::lowerWeight(gemma::WeightOp op) {
  auto type = cast<RankedTensorType>(op.getType());
  uint64_t offset = weights_.find(op.getName())->offset;
  auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
  return memref::ViewOp::create(b_, memrefType, weightSection_, k_.index(int64_t(offset)),
                                ValueRange{});
}

Value ForwardLowering::lowerEmbed(gemma::EmbedOp op) {
  Value out = alloc(op.getResult()), table = buffer(op.getTable());
  int64_t width = shapeOf(op.getTable())[1];
  Value scale = k_.f32(op.getScale().convertToDouble());
  k_.loop(k_.index(0), tokens_, 1, [&](Value t) {
    Value id = arith::IndexCastOp::create(b_, b_.getIndexType(),
                                          memref::LoadOp::create(b_, ids_, ValueRange{t}));
    k_.chunks(width, [&](Value i, VectorType type) {
      Value row = k_.load(table, {id}, i, type);
      k_.store(arith::MulFOp::create(b_, row, k_.splat(scale, type)), out, {t}, i);
    });
  });
  return out;
}

Value ForwardLowering::lowerRmsNorm(gemma::RMSNormOp op) {
  Value out = copyOf(op.getInput());
  Value gain = op.getWeight() ? buffer(op.getWeight()) : Value();
  k_.rmsNormRows(k_.flattenRows(out), shapeOf(op.getInput()).back(), gain,
                 op.getEps().convertToDouble());
  return out;
}

Value ForwardLowering::lowerPleInputs(gemma::PleInputsOp op) {
  ArrayRef<int64_t> shape = shapeOf(op.getResult());
  int64_t layers = shape[1], width = shape[2], hidden = shapeOf(op.getEmbeddings())[1];
  Value out = alloc(op.getResult());
  Value packed = memref::CollapseShapeOp::create(b_, out, ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  k_.linear(buffer(op.getEmbeddings()), buffer(op.getModelProjection()), {}, 0, layers * width,
            packed);
  Value projectionScale = k_.f32(std::pow(double(hidden), -0.5));
  k_.map({packed}, packed, layers * width, [&](ValueRange v, Value) {
    return arith::MulFOp::create(b_, v[0], k_.splat(projectionScale, v[0].getType())).getResult();
  });
  k_.rmsNormRows(k_.flattenRows(out), width, buffer(op.getProjectionNorm()),
                 op.getEps().convertToDouble());
  Value tokenScale = k_.f32(op.getTokenScale().convertToDouble()), half = k_.f32(std::sqrt(0.5));
  Value table = buffer(op.getPleTable());
  k_.loop(k_.index(0), tokens_, 1, [&](Value t) {
    Value id = arith::IndexCastOp::create(b_, b_.getIndexType(),
                                          memref::LoadOp::create(b_, ids_, ValueRange{t}));
    k_.chunks(layers * width, [&](Value i, VectorType type) {
      Value token = arith::MulFOp::create(b_, k_.load(table, {id}, i, type),
                                          k_.splat(tokenScale, type));
      Value sum = arith::AddFOp::create(b_, k_.load(packed, {t}, i, type), token);
      k_.store(arith::MulFOp::create(b_, sum, k_.splat(half, type)), packed, {t}, i);
    });
  });
  return out;
}

Value ForwardLowering::lowerPleInject(gemma::PleInjectOp op) {
  int64_t width = shapeOf(op.getInputGate())[0], hidden = shapeOf(op.getHidden())[1];
  Value gate = k_.allocRows(tokens_, {width});
  k_.linear(buffer(op.getHidden()), buffer(op.getInputGate()), {}, 0, width, gate);
  Value ple = buffer(op.getPleInputs()), layer = k_.index(op.getLayer());
  k_.loop(k_.index(0), tokens_, 1, [&](Value t) {
    k_.chunks(width, [&](Value i, VectorType type) {
      Value g = k_.geluTanh(k_.load(gate, {t}, i, type));
      k_.store(arith::MulFOp::create(b_, g, k_.load(ple, {t, layer}, i, type)), gate, {t}, i);
    });
  });
  Value out = alloc(op.getResult());
  k_.linear(gate, buffer(op.getProjection()), {}, 0, hidden, out);
  memref::DeallocOp::create(b_, gate);
  return out;
}

/// A read-only f32 table in the module, as a memref.
Value ForwardLowering::constantTable(const std::string &name, ArrayRef<float> values) {
  auto type = MemRefType::get({int64_t(values.size())}, b_.getF32Type());
  auto module = forward_->getParentOfType<ModuleOp>();
  if (!module.lookupSymbol(name)) {
    OpBuilder moduleBuilder = OpBuilder::atBlockBegin(module.getBody());
    auto init = DenseElementsAttr::get(
        RankedTensorType::get({int64_t(values.size())}, b_.getF32Type()), values);
    memref::GlobalOp::create(moduleBuilder, b_.getLoc(), name,
                             moduleBuilder.getStringAttr("private"), type, init,
                             /*constant=*/true, /*alignment=*/IntegerAttr());
  }
  return memref::GetGlobalOp::create(b_, type, name);
}

/// The K (or V) region of a layer's cache: f32 [capacity, kv heads, head dim].
Value ForwardLowering::kvRegion(int64_t layer, bool values) {
  const KvCachePlan::Layer &plan = *kv_.find(layer);
  Value capacity = plan.ringCapacity ? k_.index(plan.ringCapacity) : contextLength_;
  Value offset = arith::AddIOp::create(
      b_, k_.index(int64_t(plan.fixedOffset)),
      arith::MulIOp::create(b_, k_.index(int64_t(plan.perContextOffset)), contextLength_));
  if (values) // V follows K
    offset = arith::AddIOp::create(
        b_, offset,
        arith::MulIOp::create(b_, capacity,
                              k_.index(plan.kvHeads * plan.headDim * int64_t(sizeof(float)))));
  auto type = MemRefType::get({ShapedType::kDynamic, plan.kvHeads, plan.headDim},
                              b_.getF32Type());
  return memref::ViewOp::create(b_, type, kvCache_, offset, ValueRange{capacity});
}

/// Rotate-half RoPE of f32 [T, heads, head dim] in place, token t at position start + t.
void ForwardLowering::rope(Value heads, gemma::AttentionOp op) {
  int64_t headDim = op.getHeadDim(), half = headDim / 2, rotated = half;
  if (op.getRope() == gemma::RopeKind::Proportional)
    rotated = int64_t(std::floor(op.getPartialRotaryFactor()->convertToDouble() * headDim / 2));
  if (rotated == 0)
    return;
  double theta = op.getRopeTheta().convertToDouble();
  SmallVector<float> invFreq;
  for (int64_t c = 0; c < rotated; ++c)
    invFreq.push_back(float(1.0 / std::pow(theta, double(2 * c) / double(headDim))));
  int64_t numHeads = shapeOf(heads)[1];
  Value table = constantTable("gemc_rope_inv_freq_" + std::to_string(op.getLayer()), invFreq);
  k_.loop(k_.index(0), tokens_, 1, [&](Value t) {
    Value pos = arith::AddIOp::create(b_, startPos_, t);
    Value posF = arith::UIToFPOp::create(
        b_, b_.getF32Type(), arith::IndexCastUIOp::create(b_, b_.getI64Type(), pos));
    k_.chunks(rotated, [&](Value c, VectorType type) {
      Value angle = arith::MulFOp::create(b_, k_.splat(posF, type), k_.load(table, {}, c, type));
      Value cos = math::CosOp::create(b_, angle), sin = math::SinOp::create(b_, angle);
      Value partner = arith::AddIOp::create(b_, c, k_.index(half));
      k_.loop(numHeads, [&](Value h) {
        Value a = k_.load(heads, {t, h}, c, type), bv = k_.load(heads, {t, h}, partner, type);
        k_.store(arith::SubFOp::create(b_, arith::MulFOp::create(b_, a, cos),
                                       arith::MulFOp::create(b_, bv, sin)),
                 heads, {t, h}, c);
        k_.store(arith::AddFOp::create(b_, arith::MulFOp::create(b_, bv, cos),
                                       arith::MulFOp::create(b_, a, sin)),
                 heads, {t, h}, partner);
      });
    });
  });
}

/// Projects, normalizes and rotates the call's K and V and writes them into the layer's cache
/// at slot position % capacity.
void ForwardLowering::appendKv(gemma::AttentionOp op) {
  int64_t kvHeads = op.getNumKvHeads(), headDim = op.getHeadDim();
  double eps = op.getEps().convertToDouble();
  Value keys = k_.allocRows(tokens_, {kvHeads, headDim});
  Value values = k_.allocRows(tokens_, {kvHeads, headDim});
  auto packed = [&](Value heads) {
    return memref::CollapseShapeOp::create(b_, heads, ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  };
  Value input = buffer(op.getInput());
  k_.linear(input, buffer(op.getKProj()), {}, 0, kvHeads * headDim, packed(keys));
  if (op.getVFromK()) // V is the raw K projection, taken before k_norm and RoPE
    memref::CopyOp::create(b_, keys, values);
  else
    k_.linear(input, buffer(op.getVProj()), {}, 0, kvHeads * headDim, packed(values));
  k_.rmsNormRows(k_.flattenRows(keys), headDim, buffer(op.getKNorm()), eps);
  k_.rmsNormRows(k_.flattenRows(values), headDim, Value(), eps);
  rope(keys, op);

  Value cacheK = kvRegion(op.getLayer(), false), cacheV = kvRegion(op.getLayer(), true);
  Value capacity = memref::DimOp::create(b_, cacheK, 0);
  k_.loop(k_.index(0), tokens_, 1, [&](Value t) {
    Value slot = arith::RemUIOp::create(b_, arith::AddIOp::create(b_, startPos_, t), capacity);
    k_.loop(kvHeads, [&](Value h) {
      k_.chunks(headDim, [&](Value i, VectorType type) {
        k_.store(k_.load(keys, {t, h}, i, type), cacheK, {slot, h}, i);
        k_.store(k_.load(values, {t, h}, i, type), cacheV, {slot, h}, i);
      });
    });
  });
  memref::DeallocOp::create(b_, keys);
  memref::DeallocOp::create(b_, values);
}

Value ForwardLowering::lowerAttention(gemma::AttentionOp op) {
  int64_t heads = op.getNumHeads(), kvHeads = op.getNumKvHeads(), headDim = op.getHeadDim();
  int64_t group = heads / kvHeads, hidden = shapeOf(op.getInput())[1];
  if (!op.getKvSourceLayer())
    appendKv(op);
  int64_t owner = op.getKvSourceLayer().value_or(op.getLayer());
  Value cacheK = kvRegion(owner, false), cacheV = kvRegion(owner, true);
  Value capacity = memref::DimOp::create(b_, cacheK, 0);

  Value queries = k_.allocRows(tokens_, {heads, headDim});
  auto packed = [&](Value h) {
    return memref::CollapseShapeOp::create(b_, h, ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  };
  k_.linear(buffer(op.getInput()), buffer(op.getQProj()), {}, 0, heads * headDim,
            packed(queries));
  k_.rmsNormRows(k_.flattenRows(queries), headDim, buffer(op.getQNorm()),
                 op.getEps().convertToDouble());
  rope(queries, op);

  // Online softmax over the visible keys: out accumulates p_j * v_j rescaled as the running
  // maximum grows; the final division by the running sum normalizes it.
  Value out = k_.allocRows(tokens_, {heads, headDim});
  Value negInf = k_.f32(-INFINITY);
  k_.loop(k_.index(0), tokens_, 1, [&](Value t) {
    Value query = arith::AddIOp::create(b_, startPos_, t);
    Value last = arith::AddIOp::create(b_, query, k_.index(1));
    Value first = k_.index(0);
    if (std::optional<int64_t> window = op.getSlidingWindow())
      first = arith::SubIOp::create(
          b_, arith::MaxUIOp::create(b_, last, k_.index(*window)), k_.index(*window));
    k_.loop(heads, [&](Value h) {
      Value kvHead = arith::DivUIOp::create(b_, h, k_.index(group));
      k_.chunks(headDim, [&](Value i, VectorType type) {
        k_.store(k_.splat(k_.f32(0), type), out, {t, h}, i);
      });
      SmallVector<Value> state = k_.loopCarrying(
          first, last, 1, {negInf, k_.f32(0)}, [&](Value j, ValueRange carried) {
            Value slot = arith::RemUIOp::create(b_, j, capacity);
            Value score = k_.dot(queries, {t, h}, cacheK, {slot, kvHead}, headDim);
            Value maximum = arith::MaximumFOp::create(b_, carried[0], score);
            Value rescale =
                math::ExpOp::create(b_, arith::SubFOp::create(b_, carried[0], maximum));
            Value weight = math::ExpOp::create(b_, arith::SubFOp::create(b_, score, maximum));
            Value sum = arith::AddFOp::create(
                b_, arith::MulFOp::create(b_, carried[1], rescale), weight);
            k_.chunks(headDim, [&](Value i, VectorType type) {
              Value acc = arith::MulFOp::create(b_, k_.load(out, {t, h}, i, type),
                                                k_.splat(rescale, type));
              Value v = k_.load(cacheV, {slot, kvHead}, i, type);
              k_.store(vector::FMAOp::create(b_, k_.splat(weight, type), v, acc), out, {t, h},
                       i);
            });
            return SmallVector<Value>{maximum, sum};
          });
      Value inverse = arith::DivFOp::create(b_, k_.f32(1), state[1]);
      k_.chunks(headDim, [&](Value i, VectorType type) {
        k_.store(arith::MulFOp::create(b_, k_.load(out, {t, h}, i, type),
                                       k_.splat(inverse, type)),
                 out, {t, h}, i);
      });
    });
  });
  memref::DeallocOp::create(b_, queries);
  Value result = k_.allocRows(tokens_, {hidden});
  k_.linear(packed(out), buffer(op.getOProj()), {}, 0, hidden, result);
  memref::DeallocOp::create(b_, out);
  return result;
}

Value ForwardLowering::lowerMlp(gemma::MlpOp op) {
  int64_t width = shapeOf(op.getGate())[0], hidden = shapeOf(op.getInput())[1];
  Value input = buffer(op.getInput());
  Value gate = k_.allocRows(tokens_, {width}), up = k_.allocRows(tokens_, {width});
  k_.linear(input, buffer(op.getGate()), {}, 0, width, gate);
  k_.linear(input, buffer(op.getUp()), {}, 0, width, up);
  k_.map({gate, up}, gate, width, [&](ValueRange v, Value) {
    return arith::MulFOp::create(b_, k_.geluTanh(v[0]), v[1]).getResult();
  });
  Value out = alloc(op.getResult());
  k_.linear(gate, buffer(op.getDown()), {}, 0, hidden, out);
  memref::DeallocOp::create(b_, gate);
  memref::DeallocOp::create(b_, up);
  return out;
}

Value ForwardLowering::lowerMoe(gemma::MoeOp op) {
  int64_t hidden = shapeOf(op.getRouterInput())[1], experts = shapeOf(op.getDown())[0],
          width = shapeOf(op.getDown())[2], topK = op.getTopK();
  // Router logits: rms_norm(r) * router_scale * hidden^-0.5 (the norm's gain is router_scale),
  // projected to one logit per expert.
  Value z = copyOf(op.getRouterInput());
  k_.rmsNormRows(z, hidden, buffer(op.getRouterScale()), op.getEps().convertToDouble());
  Value inverseRoot = k_.f32(std::pow(double(hidden), -0.5));
  k_.map({z}, z, hidden, [&](ValueRange v, Value) {
    return arith::MulFOp::create(b_, v[0], k_.splat(inverseRoot, v[0].getType())).getResult();
  });
  Value logits = k_.allocRows(tokens_, {experts});
  k_.linear(z, buffer(op.getRouterProj()), {}, 0, experts, logits);

  auto scratch = [&](ArrayRef<int64_t> shape, Type element) {
    return memref::AllocOp::create(b_, MemRefType::get(shape, element)).getResult();
  };
  Value chosen = scratch({topK}, b_.getIndexType()), weights = scratch({topK}, b_.getF32Type());
  Value gate = scratch({1, width}, b_.getF32Type()), up = scratch({1, width}, b_.getF32Type());
  Value expertOut = scratch({1, hidden}, b_.getF32Type());
  Value out = alloc(op.getResult()), input = buffer(op.getExpertInput());
  Value gateUp = buffer(op.getGateUp()), down = buffer(op.getDown());
  Value perExpert = buffer(op.getPerExpertScale());
  auto scalar = [&](Value memref, ValueRange indices) -> Value {
    Value v = memref::LoadOp::create(b_, memref, indices);
    return v.getType().isF32() ? v : arith::ExtFOp::create(b_, b_.getF32Type(), v).getResult();
  };
  k_.loop(k_.index(0), tokens_, 1, [&](Value t) {
    // Softmax over the experts, in place in the logits row.
    Value maximum = k_.loopCarrying(k_.index(0), k_.index(experts), 1, k_.f32(-INFINITY),
                                    [&](Value e, ValueRange m) {
                                      Value l = memref::LoadOp::create(b_, logits, ValueRange{t, e});
                                      return SmallVector<Value>{arith::MaximumFOp::create(b_, m[0], l)};
                                    })[0];
    Value total = k_.loopCarrying(k_.index(0), k_.index(experts), 1, k_.f32(0),
                                  [&](Value e, ValueRange s) {
                                    Value l = memref::LoadOp::create(b_, logits, ValueRange{t, e});
                                    Value p = math::ExpOp::create(b_, arith::SubFOp::create(b_, l, maximum));
                                    memref::StoreOp::create(b_, p, logits, ValueRange{t, e});
                                    return SmallVector<Value>{arith::AddFOp::create(b_, s[0], p)};
                                  })[0];
    // Top-k by repeated argmax (strict >: ties go to the lower expert); a taken expert's
    // probability is overwritten with -1 so it is not taken again.
    Value chosenSum = k_.f32(0);
    for (int64_t slot = 0; slot < topK; ++slot) {
      SmallVector<Value> best = k_.loopCarrying(
          k_.index(0), k_.index(experts), 1, {k_.index(0), k_.f32(-2)},
          [&](Value e, ValueRange acc) {
            Value p = memref::LoadOp::create(b_, logits, ValueRange{t, e});
            Value better = arith::CmpFOp::create(b_, arith::CmpFPredicate::OGT, p, acc[1]);
            return SmallVector<Value>{arith::SelectOp::create(b_, better, e, acc[0]),
                                      arith::SelectOp::create(b_, better, p, acc[1])};
          });
      Value probability = arith::DivFOp::create(b_, best[1], total);
      memref::StoreOp::create(b_, best[0], chosen, ValueRange{k_.index(slot)});
      memref::StoreOp::create(b_, probability, weights, ValueRange{k_.index(slot)});
      memref::StoreOp::create(b_, k_.f32(-1), logits, ValueRange{t, best[0]});
      chosenSum = arith::AddFOp::create(b_, chosenSum, probability);
    }
    k_.chunks(hidden, [&](Value i, VectorType type) {
      k_.store(k_.splat(k_.f32(0), type), out, {t}, i);
    });
    Value row = memref::SubViewOp::create(b_, input, ArrayRef<OpFoldResult>{t, b_.getIndexAttr(0)},
                                          ArrayRef<OpFoldResult>{b_.getIndexAttr(1), b_.getIndexAttr(hidden)},
                                          ArrayRef<OpFoldResult>{b_.getIndexAttr(1), b_.getIndexAttr(1)});
    for (int64_t slot = 0; slot < topK; ++slot) {
      Value e = memref::LoadOp::create(b_, chosen, ValueRange{k_.index(slot)});
      Value w = arith::MulFOp::create(
          b_, arith::DivFOp::create(b_, memref::LoadOp::create(b_, weights, ValueRange{k_.index(slot)}), chosenSum),
          scalar(perExpert, {e}));
      k_.linear(row, gateUp, {e}, 0, width, gate);
      k_.linear(row, gateUp, {e}, width, width, up);
      k_.map({gate, up}, gate, width, [&](ValueRange v, Value) {
        return arith::MulFOp::create(b_, k_.geluTanh(v[0]), v[1]).getResult();
      });
      k_.linear(gate, down, {e}, 0, hidden, expertOut);
      k_.chunks(hidden, [&](Value i, VectorType type) {
        Value acc = k_.load(out, {t}, i, type);
        Value y = k_.load(expertOut, {k_.index(0)}, i, type);
        k_.store(vector::FMAOp::create(b_, k_.splat(w, type), y, acc), out, {t}, i);
      });
    }
  });
  for (Value temporary : {z, logits, chosen, weights, gate, up, expertOut})
    memref::DeallocOp::create(b_, temporary);
  return out;
}

Value ForwardLowering::lowerLayerScalar(gemma::LayerScalarOp op) {
  Value out = alloc(op.getResult());
  Value scalarBuffer = buffer(op.getScalar());
  Value s = memref::LoadOp::create(b_, scalarBuffer, ValueRange{k_.index(0)});
  if (!s.getType().isF32())
    s = arith::ExtFOp::create(b_, b_.getF32Type(), s);
  k_.map({buffer(op.getInput())}, out, shapeOf(op.getInput())[1], [&](ValueRange v, Value) {
    return arith::MulFOp::create(b_, v[0], k_.splat(s, v[0].getType())).getResult();
  });
  return out;
}

Value ForwardLowering::lowerLmHead(gemma::LmHeadOp op) {
  int64_t vocab = shapeOf(op.getTable())[0];
  k_.linear(buffer(op.getInput()), buffer(op.getTable()), {}, 0, vocab, logits_);
  if (std::optional<APFloat> cap = op.getSoftcap()) {
    Value c = k_.f32(cap->convertToDouble()), inverse = k_.f32(1.0 / cap->convertToDouble());
    k_.map({logits_}, logits_, vocab, [&](ValueRange v, Value) {
      Type type = v[0].getType();
      Value t = math::TanhOp::create(b_, arith::MulFOp::create(b_, v[0], k_.splat(inverse, type)));
      return arith::MulFOp::create(b_, t, k_.splat(c, type)).getResult();
    });
  }
  return logits_;
}

Value ForwardLowering::lowerAdd(arith::AddFOp op) {
  Value out = alloc(op.getResult());
  k_.map({rows2d(op.getLhs()), rows2d(op.getRhs())}, k_.flattenRows(out),
         shapeOf(op.getResult()).back(), [&](ValueRange v, Value) {
           return arith::AddFOp::create(b_, v[0], v[1]).getResult();
         });
  return out;
}

struct LowerGemmaToLoopsPass
    : public PassWrapper<LowerGemmaToLoopsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(LowerGemmaToLoopsPass)

  LowerGemmaToLoopsPass() = default;
  LowerGemmaToLoopsPass(const LowerGemmaToLoopsPass &other) : PassWrapper(other) {}
  explicit LowerGemmaToLoopsPass(const CpuLoweringOptions &options) {
    vectorWidth = options.vectorWidth;
    maxChunk = options.maxChunk;
  }

  StringRef getArgument() const override { return "gemma-lower-to-loops"; }
  StringRef getDescription() const override {
    return "Lower the gemma forward function to memref/scf/vector code (gemc_forward)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, math::MathDialect, memref::MemRefDialect,
                    scf::SCFDialect, vector::VectorDialect, func::FuncDialect>();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    if (!forward) {
      module.emitError("no forward function to lower");
      return signalPassFailure();
    }
    int64_t vocab = cast<ShapedType>(forward.getResultTypes()[0]).getDimSize(1);
    OpBuilder builder(forward);
    Type index = builder.getIndexType();
    auto bytes = MemRefType::get({ShapedType::kDynamic}, builder.getI8Type());
    auto type = builder.getFunctionType(
        {MemRefType::get({ShapedType::kDynamic}, builder.getI32Type()), index, index, bytes,
         bytes, MemRefType::get({ShapedType::kDynamic, vocab}, builder.getF32Type())},
        {});
    auto lowered = func::FuncOp::create(builder, forward.getLoc(), kForwardSymbol, type);
    lowered->setAttr("llvm.emit_c_interface", builder.getUnitAttr());
    if (failed(ForwardLowering(forward, lowered, {vectorWidth, maxChunk}).run()))
      return signalPassFailure();
    forward.erase();
  }

  Option<int64_t> vectorWidth{*this, "vector-width", llvm::cl::desc("f32 lanes per vector"),
                              llvm::cl::init(8)};
  Option<int64_t> maxChunk{*this, "max-chunk", llvm::cl::desc("most tokens per call"),
                           llvm::cl::init(64)};
};

} // namespace

std::unique_ptr<Pass> createLowerGemmaToLoopsPass(const CpuLoweringOptions &options) {
  return std::make_unique<LowerGemmaToLoopsPass>(options);
}

void registerLowerGemmaToLoopsPass() { PassRegistration<LowerGemmaToLoopsPass>(); }

} // namespace gemc
