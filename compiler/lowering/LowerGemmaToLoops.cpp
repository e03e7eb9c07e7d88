//===- LowerGemmaToLoops.cpp - gemma ops to memref/scf/vector code --------===//
//
// Rewrites the gemma forward function into `gemc_forward`, a function on buffers made of scf
// loops, vector loads/FMAs/reductions, arith and math ops. Weights become views of one weight
// section at the offsets of WeightLayout, in their stored format (quantized ones as byte rows
// that the kernels decode in registers); each attention layer reads and writes its region of one
// KV-cache buffer at the offsets of KvCachePlan; activations live in one scratch buffer at
// offsets a compile-time arena assigns (a slab sized for max-chunk tokens, reused after the
// value's last use), so a call allocates nothing. All shapes except the token count are
// constants, so every loop has static bounds and vector tails are static (KernelBuilder).
//
// Every worker thread runs the whole function (SPMD): each step shares its rows or output
// channels among the workers, and a barrier separates steps that read what another worker
// wrote. The lowering goes op by op in program order: each gemma op maps to one short emitter,
// whose code goes into a function of its own that gemc_forward calls (opFunction says why).
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/LowerGemmaToLoops.h"

#include "compiler/lowering/KernelBuilder.h"
#include "compiler/plan/MemoryPlan.h"
#include "dialects/gemma/GemmaOps.h"

#include <llvm/ADT/TypeSwitch.h>
#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/LLVMIR/LLVMDialect.h>
#include <mlir/Dialect/Math/IR/Math.h>
#include <mlir/Dialect/SCF/IR/SCF.h>
#include <mlir/Dialect/Vector/IR/VectorOps.h>

#include <fmt/format.h>

#include <cmath>

using namespace mlir;

namespace gemc {
namespace {

ArrayRef<int64_t> shapeOf(Value value) { return cast<ShapedType>(value.getType()).getShape(); }

/// Assigns byte offsets in the scratch buffer at compile time: first fit among released slabs,
/// else a new slab at the end.
class ScratchArena {
public:
  uint64_t allocate(uint64_t bytes) {
    for (Slab &slab : slabs_)
      if (slab.free && slab.bytes >= bytes) {
        slab.free = false;
        return slab.offset;
      }
    slabs_.push_back({end_, bytes, false});
    end_ += (bytes + 63) / 64 * 64;
    return slabs_.back().offset;
  }
  void release(uint64_t offset) {
    for (Slab &slab : slabs_)
      if (slab.offset == offset)
        slab.free = true;
  }
  uint64_t size() const { return end_; }

private:
  struct Slab {
    uint64_t offset, bytes;
    bool free;
  };
  std::vector<Slab> slabs_;
  uint64_t end_ = 0;
};

class ForwardLowering {
public:
  ForwardLowering(func::FuncOp forward, func::FuncOp lowered, const CpuLoweringOptions &options)
      : forward_(forward), lowered_(lowered), b_(lowered.getLoc(), lowered.getContext()),
        k_(b_, options.vectorWidth), maxChunk_(options.maxChunk),
        weights_(planWeightLayout(forward)), kv_(planKvCache(forward, options.maxChunk)) {
    lowered.addEntryBlock();
    enter(lowered);
  }

  LogicalResult run();
  uint64_t scratchBytes() const { return arena_.size(); }

private:
  /// Where a gemma value's buffer lives: a view of the scratch or weight section at `offset`
  /// (dimension 0 of a scratch view counts the call's tokens), or the logits argument. Every
  /// function that reads the value makes its own view from this.
  struct BufferPlace {
    enum Kind { None, Scratch, Weights, Logits } kind = None;
    uint64_t offset = 0;
    MemRefType type;
    WeightFormat format = WeightFormat::F32; // weights: the stored format and row length
    int64_t columns = 0;
  };

  /// Sets the builder at the end of `function`'s entry block and the argument values to its
  /// arguments (every function of the lowering has gemc_forward's signature).
  void enter(func::FuncOp function);
  /// A new function, called from gemc_forward, that will hold the code of `op`.
  func::FuncOp opFunction(Operation *op);
  /// The buffer of a gemma value in the current function (its view is made once, at entry).
  Value buffer(Value tensor);
  WeightRows weight(Value tensor) {
    const BufferPlace &place = places_.find(tensor)->second;
    return {buffer(tensor), place.format, place.columns};
  }
  /// A scratch buffer of f32 [tokens, trailing...], or of a static `shape` if `tokenRows` is
  /// false; it stays reserved until release().
  Value scratch(ArrayRef<int64_t> trailing, Type element = {}, bool tokenRows = true);
  Value scratchFor(Value result) { return scratch(shapeOf(result).drop_front()); }
  void release(Value buffer) { arena_.release(scratchOffsets_.lookup(buffer)); }
  void barrier() { func::CallIndirectOp::create(b_, barrierFn_, ValueRange{barrierContext_}); }
  /// Emits `body` for worker 0 only.
  void serial(function_ref<void()> body);
  Value constantTable(const std::string &name, ArrayRef<float> values);
  Value kvRegion(int64_t layer, bool values);
  void rope(Value heads, gemma::AttentionOp op);
  Value ropeAngle(Value position, Value invFreqHi, Value invFreqLo);
  Value tokenId(Value t);
  Value packHeads(Value heads) {
    return memref::CollapseShapeOp::create(b_, heads, ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  }

  void lowerWeight(gemma::WeightOp op);
  Value lowerEmbed(gemma::EmbedOp op);
  Value lowerRmsNorm(gemma::RMSNormOp op);
  Value lowerPleInputs(gemma::PleInputsOp op);
  Value lowerPleInject(gemma::PleInjectOp op);
  Value lowerAttention(gemma::AttentionOp op);
  void storeKv(gemma::AttentionOp op, Value keys, Value values);
  void attendHeads(gemma::AttentionOp op, Value queries, Value out);
  Value lowerMlp(gemma::MlpOp op);
  Value lowerMoe(gemma::MoeOp op);
  void routeTokens(gemma::MoeOp op, Value logits, Value chosen, Value weights);
  Value lowerLayerScalar(gemma::LayerScalarOp op);
  Value lowerLmHead(gemma::LmHeadOp op);
  Value lowerAdd(arith::AddFOp op);

  func::FuncOp forward_, lowered_;
  ImplicitLocOpBuilder b_;
  KernelBuilder k_;
  int64_t maxChunk_;
  WeightLayout weights_;
  KvCachePlan kv_;
  ScratchArena arena_;
  Value ids_, startPos_, contextLength_, weightSection_, kvCache_, scratch_, logits_, tokens_;
  Value worker_, barrierFn_, barrierContext_;
  DenseMap<Value, BufferPlace> places_;      // gemma value -> where its buffer lives
  DenseMap<Value, Value> views_;             // gemma value -> its view in the current function
  DenseMap<Value, uint64_t> scratchOffsets_; // scratch view -> arena offset
  int64_t functions_ = 0;
};

LogicalResult ForwardLowering::run() {
  Block &body = forward_.getBody().front();
  DenseMap<Operation *, SmallVector<Value>> lastUses;
  DenseMap<Value, Operation *> lastUser;
  for (Operation &op : body)
    for (Value operand : op.getOperands())
      lastUser[operand] = &op;
  for (auto &[value, user] : lastUser)
    lastUses[user].push_back(value);

  for (Operation &op : body) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      if (places_.lookup(ret.getOperand(0)).kind != BufferPlace::Logits)
        return op.emitOpError("must return the lm_head logits");
      break;
    }
    if (auto weightOp = dyn_cast<gemma::WeightOp>(op)) {
      lowerWeight(weightOp);
      continue;
    }
    func::FuncOp function = opFunction(&op);
    enter(function);
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
      return op.emitOpError("has no CPU lowering");
    places_[op.getResult(0)] =
        result == logits_
            ? BufferPlace{BufferPlace::Logits, 0, {}}
            : BufferPlace{BufferPlace::Scratch, scratchOffsets_.lookup(result),
                          cast<MemRefType>(result.getType())};
    func::ReturnOp::create(b_);
    enter(lowered_);
    func::CallOp::create(b_, function, lowered_.getArguments());
    barrier(); // every worker's share of this op is written before the next op reads it
    for (Value dead : lastUses.lookup(&op))
      if (places_.lookup(dead).kind == BufferPlace::Scratch)
        arena_.release(places_.lookup(dead).offset);
  }
  func::ReturnOp::create(b_);
  return success();
}

void ForwardLowering::enter(func::FuncOp function) {
  Block &entry = function.getBody().front();
  b_.setInsertionPointToEnd(&entry);
  ids_ = entry.getArgument(0);
  startPos_ = entry.getArgument(1);
  contextLength_ = entry.getArgument(2);
  weightSection_ = entry.getArgument(3);
  kvCache_ = entry.getArgument(4);
  scratch_ = entry.getArgument(5);
  logits_ = entry.getArgument(6);
  worker_ = entry.getArgument(7);
  k_.setWorkers(worker_, entry.getArgument(8));
  barrierFn_ = entry.getArgument(9);
  barrierContext_ = entry.getArgument(10);
  views_.clear();
  if (entry.empty())
    tokens_ = memref::DimOp::create(b_, ids_, 0);
  else
    tokens_ = cast<memref::DimOp>(entry.front()).getResult();
}

/// One private, never-inlined function per op: LLVM's loop analyses grow faster than linearly
/// with a function's size, so one function per op compiles several times faster than the whole
/// model in gemc_forward, and a profile names the op that runs.
func::FuncOp ForwardLowering::opFunction(Operation *op) {
  OpBuilder module(lowered_);
  std::string name = fmt::format("gemc_{}_{}", op->getName().stripDialect().str(), functions_++);
  auto function = func::FuncOp::create(module, op->getLoc(), name, lowered_.getFunctionType());
  function.setPrivate();
  function->setAttr("passthrough", module.getArrayAttr({module.getStringAttr("noinline")}));
  function.addEntryBlock();
  return function;
}

Value ForwardLowering::buffer(Value tensor) {
  if (Value view = views_.lookup(tensor))
    return view;
  const BufferPlace &place = places_.find(tensor)->second;
  if (place.kind == BufferPlace::Logits)
    return logits_;
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPointAfter(tokens_.getDefiningOp());
  Value base = place.kind == BufferPlace::Weights ? weightSection_ : scratch_;
  SmallVector<Value> sizes;
  if (place.type.getRank() > 0 && place.type.isDynamicDim(0))
    sizes.push_back(tokens_);
  Value view = memref::ViewOp::create(b_, place.type, base, k_.index(int64_t(place.offset)), sizes);
  views_[tensor] = view;
  return view;
}

Value ForwardLowering::scratch(ArrayRef<int64_t> trailing, Type element, bool tokenRows) {
  element = element ? element : b_.getF32Type();
  SmallVector<int64_t> shape;
  if (tokenRows)
    shape.push_back(ShapedType::kDynamic);
  shape.append(trailing.begin(), trailing.end());
  int64_t elements = tokenRows ? maxChunk_ : 1;
  for (int64_t dim : trailing)
    elements *= dim;
  uint64_t offset = arena_.allocate(uint64_t(elements) * element.getIntOrFloatBitWidth() / 8);
  SmallVector<Value> sizes;
  if (tokenRows)
    sizes.push_back(tokens_);
  Value view = memref::ViewOp::create(b_, MemRefType::get(shape, element), scratch_,
                                      k_.index(int64_t(offset)), sizes);
  scratchOffsets_[view] = offset;
  return view;
}

void ForwardLowering::serial(function_ref<void()> body) {
  Value first = arith::CmpIOp::create(b_, arith::CmpIPredicate::eq, worker_, k_.index(0));
  auto ifOp = scf::IfOp::create(b_, first, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  body();
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

Value ForwardLowering::tokenId(Value t) {
  return arith::IndexCastOp::create(b_, b_.getIndexType(),
                                    memref::LoadOp::create(b_, ids_, ValueRange{t}));
}

/// Records where a weight lives: a memref of the element type for float formats, of bytes
/// [..., rowBytes] for quantized ones.
void ForwardLowering::lowerWeight(gemma::WeightOp op) {
  auto type = cast<RankedTensorType>(op.getType());
  WeightFormat format = op.storedFormat();
  SmallVector<int64_t> shape(type.getShape());
  Type element = b_.getI8Type();
  if (isFloatFormat(format))
    element = gemma::elementTypeOf(format, b_.getContext());
  else
    shape.back() = int64_t(rowBytes(format, shape.back()));
  places_[op.getResult()] = {BufferPlace::Weights, weights_.find(op.getName())->offset,
                             MemRefType::get(shape, element), format, type.getShape().back()};
}

Value ForwardLowering::lowerEmbed(gemma::EmbedOp op) {
  Value out = scratchFor(op.getResult());
  Value scale = k_.f32(op.getScale().convertToDouble());
  auto [begin, end] = k_.share(tokens_);
  k_.loop(begin, end, 1, [&](Value t) {
    k_.walkRow(weight(op.getTable()), {tokenId(t)}, {},
               [&](const RowChunk &chunk, SmallVectorImpl<Value> &) {
                 Value row = chunk.values;
                 k_.store(arith::MulFOp::create(b_, row, k_.splat(scale, row.getType())), out,
                          {t}, chunk.column);
               });
  });
  return out;
}

Value ForwardLowering::lowerRmsNorm(gemma::RMSNormOp op) {
  Value out = scratchFor(op.getResult());
  Value gain = op.getWeight() ? buffer(op.getWeight()) : Value();
  k_.rmsNormRows(k_.flattenRows(buffer(op.getInput())), k_.flattenRows(out),
                 shapeOf(op.getInput()).back(), gain, op.getEps().convertToDouble());
  return out;
}

Value ForwardLowering::lowerPleInputs(gemma::PleInputsOp op) {
  ArrayRef<int64_t> shape = shapeOf(op.getResult());
  int64_t layers = shape[1], width = shape[2], hidden = shapeOf(op.getEmbeddings())[1];
  Value out = scratchFor(op.getResult());
  Value packed = packHeads(out);
  k_.linear(buffer(op.getEmbeddings()), weight(op.getModelProjection()), {}, 0, layers * width,
            packed);
  barrier();
  Value projectionScale = k_.f32(std::pow(double(hidden), -0.5));
  k_.map({packed}, packed, layers * width, [&](ValueRange v, Value) {
    return arith::MulFOp::create(b_, v[0], k_.splat(projectionScale, v[0].getType())).getResult();
  });
  barrier();
  Value rows = k_.flattenRows(out);
  k_.rmsNormRows(rows, rows, width, buffer(op.getProjectionNorm()), op.getEps().convertToDouble());
  barrier();
  Value tokenScale = k_.f32(op.getTokenScale().convertToDouble()), half = k_.f32(std::sqrt(0.5));
  auto [begin, end] = k_.share(tokens_);
  k_.loop(begin, end, 1, [&](Value t) {
    k_.walkRow(weight(op.getPleTable()), {tokenId(t)}, {},
               [&](const RowChunk &chunk, SmallVectorImpl<Value> &) {
                 auto type = cast<VectorType>(chunk.values.getType());
                 Value token = arith::MulFOp::create(b_, chunk.values, k_.splat(tokenScale, type));
                 Value sum = arith::AddFOp::create(b_, k_.load(packed, {t}, chunk.column, type),
                                                   token);
                 k_.store(arith::MulFOp::create(b_, sum, k_.splat(half, type)), packed, {t},
                          chunk.column);
               });
  });
  return out;
}

Value ForwardLowering::lowerPleInject(gemma::PleInjectOp op) {
  int64_t width = shapeOf(op.getInputGate())[0], hidden = shapeOf(op.getHidden())[1];
  Value gate = scratch({width});
  k_.linear(buffer(op.getHidden()), weight(op.getInputGate()), {}, 0, width, gate);
  barrier();
  Value ple = buffer(op.getPleInputs()), layer = k_.index(op.getLayer());
  auto [begin, end] = k_.share(tokens_);
  k_.loop(begin, end, 1, [&](Value t) {
    k_.chunks(width, [&](Value i, VectorType type) {
      Value g = k_.geluTanh(k_.load(gate, {t}, i, type));
      k_.store(arith::MulFOp::create(b_, g, k_.load(ple, {t, layer}, i, type)), gate, {t}, i);
    });
  });
  barrier();
  Value out = scratchFor(op.getResult());
  k_.linear(gate, weight(op.getProjection()), {}, 0, hidden, out);
  release(gate);
  return out;
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

/// Rotate-half RoPE of f32 [T, heads, head dim] in place, token t at position start + t; each
/// worker rotates its share of the tokens.
void ForwardLowering::rope(Value heads, gemma::AttentionOp op) {
  int64_t headDim = op.getHeadDim(), half = headDim / 2, rotated = half;
  if (op.getRope() == gemma::RopeKind::Proportional)
    rotated = int64_t(std::floor(op.getPartialRotaryFactor()->convertToDouble() * headDim / 2));
  if (rotated == 0)
    return;
  double theta = op.getRopeTheta().convertToDouble();
  // Each inverse frequency as a pair of floats whose sum is its double value (double-float).
  SmallVector<float> invFreqHi, invFreqLo;
  for (int64_t c = 0; c < rotated; ++c) {
    double invFreq = 1.0 / std::pow(theta, double(2 * c) / double(headDim));
    invFreqHi.push_back(float(invFreq));
    invFreqLo.push_back(float(invFreq - double(invFreqHi.back())));
  }
  int64_t numHeads = shapeOf(heads)[1];
  std::string layer = std::to_string(op.getLayer());
  Value hiTable = constantTable("gemc_rope_inv_freq_hi_" + layer, invFreqHi);
  Value loTable = constantTable("gemc_rope_inv_freq_lo_" + layer, invFreqLo);
  auto [begin, end] = k_.share(tokens_);
  k_.loop(begin, end, 1, [&](Value t) {
    Value pos = arith::AddIOp::create(b_, startPos_, t);
    Value posF = arith::UIToFPOp::create(
        b_, b_.getF32Type(), arith::IndexCastUIOp::create(b_, b_.getI64Type(), pos));
    k_.chunks(rotated, [&](Value c, VectorType type) {
      Value angle = ropeAngle(k_.splat(posF, type), k_.load(hiTable, {}, c, type),
                              k_.load(loTable, {}, c, type));
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

/// position * (invFreqHi + invFreqLo), reduced modulo 2*pi, as f32 vectors. A plain f32
/// product is off by up to half an ulp of the angle (4e-3 rad at position 128k), which makes
/// long contexts drift from the oracle's double angles; here the product's rounding error is
/// recovered with an FMA, the low half of the frequency added, and 2*pi (split in two floats,
/// Cody-Waite) subtracted before the sum is rounded, so the angle is within a few 1e-7 rad of
/// the exact one at any position below 2^24 (positions are exact in f32 up to there).
Value ForwardLowering::ropeAngle(Value position, Value invFreqHi, Value invFreqLo) {
  constexpr double twoPi = 6.283185307179586;
  Type type = position.getType();
  auto constant = [&](double value) { return k_.splat(k_.f32(value), type); };
  Value product = arith::MulFOp::create(b_, position, invFreqHi);
  Value productError = math::FmaOp::create(b_, position, invFreqHi,
                                           arith::NegFOp::create(b_, product));
  Value low = math::FmaOp::create(b_, position, invFreqLo, productError);
  Value turns = math::RoundEvenOp::create(
      b_, arith::MulFOp::create(b_, product, constant(1.0 / twoPi)));
  Value negTurns = arith::NegFOp::create(b_, turns);
  float twoPiHi = float(twoPi), twoPiLo = float(twoPi - double(twoPiHi));
  Value reduced = math::FmaOp::create(b_, negTurns, constant(twoPiHi), product);
  reduced = math::FmaOp::create(b_, negTurns, constant(twoPiLo), reduced);
  return arith::AddFOp::create(b_, reduced, low);
}

/// Writes the call's rotated K and normalized V into the layer's cache at slot
/// position % capacity; each worker stores the tokens it rotated.
void ForwardLowering::storeKv(gemma::AttentionOp op, Value keys, Value values) {
  Value cacheK = kvRegion(op.getLayer(), false), cacheV = kvRegion(op.getLayer(), true);
  Value capacity = memref::DimOp::create(b_, cacheK, 0);
  auto [begin, end] = k_.share(tokens_);
  k_.loop(begin, end, 1, [&](Value t) {
    Value slot = arith::RemUIOp::create(b_, arith::AddIOp::create(b_, startPos_, t), capacity);
    k_.loop(op.getNumKvHeads(), [&](Value h) {
      k_.chunks(op.getHeadDim(), [&](Value i, VectorType type) {
        k_.store(k_.load(keys, {t, h}, i, type), cacheK, {slot, h}, i);
        k_.store(k_.load(values, {t, h}, i, type), cacheV, {slot, h}, i);
      });
    });
  });
}

/// out[t, h] = softmax over the visible keys of q[t, h] . k, times v, for this worker's share
/// of the (token, head) pairs. Online softmax: out accumulates p_j * v_j rescaled as the running
/// maximum grows; the final division by the running sum normalizes it.
void ForwardLowering::attendHeads(gemma::AttentionOp op, Value queries, Value out) {
  int64_t heads = op.getNumHeads(), headDim = op.getHeadDim();
  int64_t group = heads / op.getNumKvHeads();
  int64_t owner = op.getKvSourceLayer().value_or(op.getLayer());
  Value cacheK = kvRegion(owner, false), cacheV = kvRegion(owner, true);
  Value capacity = memref::DimOp::create(b_, cacheK, 0);
  Value negInf = k_.f32(-INFINITY);
  auto [begin, end] = k_.share(arith::MulIOp::create(b_, tokens_, k_.index(heads)));
  k_.loop(begin, end, 1, [&](Value pair) {
    Value t = arith::DivUIOp::create(b_, pair, k_.index(heads));
    Value h = arith::RemUIOp::create(b_, pair, k_.index(heads));
    Value query = arith::AddIOp::create(b_, startPos_, t);
    Value last = arith::AddIOp::create(b_, query, k_.index(1));
    Value first = k_.index(0);
    if (std::optional<int64_t> window = op.getSlidingWindow())
      first = arith::SubIOp::create(
          b_, arith::MaxUIOp::create(b_, last, k_.index(*window)), k_.index(*window));
    Value kvHead = arith::DivUIOp::create(b_, h, k_.index(group));
    k_.chunks(headDim, [&](Value i, VectorType type) {
      k_.store(k_.splat(k_.f32(0), type), out, {t, h}, i);
    });
    SmallVector<Value> state = k_.loopCarrying(
        first, last, 1, {negInf, k_.f32(0)}, [&](Value j, ValueRange carried) {
          Value slot = arith::RemUIOp::create(b_, j, capacity);
          Value score = k_.dot(queries, {t, h}, cacheK, {slot, kvHead});
          Value maximum = arith::MaximumFOp::create(b_, carried[0], score);
          Value rescale = math::ExpOp::create(b_, arith::SubFOp::create(b_, carried[0], maximum));
          Value weight = math::ExpOp::create(b_, arith::SubFOp::create(b_, score, maximum));
          Value sum =
              arith::AddFOp::create(b_, arith::MulFOp::create(b_, carried[1], rescale), weight);
          k_.chunks(headDim, [&](Value i, VectorType type) {
            Value acc = arith::MulFOp::create(b_, k_.load(out, {t, h}, i, type),
                                              k_.splat(rescale, type));
            Value v = k_.load(cacheV, {slot, kvHead}, i, type);
            k_.store(vector::FMAOp::create(b_, k_.splat(weight, type), v, acc), out, {t, h}, i);
          });
          return SmallVector<Value>{maximum, sum};
        });
    Value inverse = arith::DivFOp::create(b_, k_.f32(1), state[1]);
    k_.chunks(headDim, [&](Value i, VectorType type) {
      k_.store(arith::MulFOp::create(b_, k_.load(out, {t, h}, i, type), k_.splat(inverse, type)),
               out, {t, h}, i);
    });
  });
}

Value ForwardLowering::lowerAttention(gemma::AttentionOp op) {
  int64_t heads = op.getNumHeads(), kvHeads = op.getNumKvHeads(), headDim = op.getHeadDim();
  int64_t hidden = shapeOf(op.getInput())[1];
  double eps = op.getEps().convertToDouble();
  bool ownsKv = !op.getKvSourceLayer();
  Value input = buffer(op.getInput());
  Value queries = scratch({heads, headDim}), keys, values;
  k_.linear(input, weight(op.getQProj()), {}, 0, heads * headDim, packHeads(queries));
  if (ownsKv) {
    keys = scratch({kvHeads, headDim});
    values = scratch({kvHeads, headDim});
    k_.linear(input, weight(op.getKProj()), {}, 0, kvHeads * headDim, packHeads(keys));
    if (!op.getVFromK())
      k_.linear(input, weight(op.getVProj()), {}, 0, kvHeads * headDim, packHeads(values));
  }
  barrier();
  Value queryRows = k_.flattenRows(queries);
  k_.rmsNormRows(queryRows, queryRows, headDim, buffer(op.getQNorm()), eps);
  if (ownsKv) {
    // V first: with v_from_k it is the raw K projection, before k_norm and RoPE. A worker owns
    // the same rows in both norms, so no barrier is needed between them.
    Value keyRows = k_.flattenRows(keys), valueRows = k_.flattenRows(values);
    k_.rmsNormRows(op.getVFromK() ? keyRows : valueRows, valueRows, headDim, Value(), eps);
    k_.rmsNormRows(keyRows, keyRows, headDim, buffer(op.getKNorm()), eps);
  }
  barrier();
  rope(queries, op);
  if (ownsKv) {
    rope(keys, op);
    storeKv(op, keys, values); // the same worker rotated these tokens
  }
  barrier();
  Value out = scratch({heads, headDim});
  attendHeads(op, queries, out);
  barrier();
  Value result = scratchFor(op.getResult());
  k_.linear(packHeads(out), weight(op.getOProj()), {}, 0, hidden, result);
  for (Value temporary : {queries, keys, values, out})
    if (temporary)
      release(temporary);
  return result;
}

Value ForwardLowering::lowerMlp(gemma::MlpOp op) {
  int64_t width = shapeOf(op.getGate())[0], hidden = shapeOf(op.getInput())[1];
  Value input = buffer(op.getInput());
  Value gate = scratch({width}), up = scratch({width});
  k_.linear(input, weight(op.getGate()), {}, 0, width, gate);
  k_.linear(input, weight(op.getUp()), {}, 0, width, up);
  barrier();
  k_.map({gate, up}, gate, width, [&](ValueRange v, Value) {
    return arith::MulFOp::create(b_, k_.geluTanh(v[0]), v[1]).getResult();
  });
  barrier();
  Value out = scratchFor(op.getResult());
  k_.linear(gate, weight(op.getDown()), {}, 0, hidden, out);
  release(gate);
  release(up);
  return out;
}

/// On worker 0: softmax over each token's router logits, top-k by repeated argmax (strict >,
/// so ties go to the lower expert; a taken expert's probability becomes -1), renormalised and
/// times per_expert_scale, into chosen [T, k] (i64) and weights [T, k].
void ForwardLowering::routeTokens(gemma::MoeOp op, Value logits, Value chosen, Value weights) {
  int64_t experts = shapeOf(op.getDown())[0], topK = op.getTopK();
  Value perExpert = buffer(op.getPerExpertScale());
  auto logit = [&](Value t, Value e) {
    return memref::LoadOp::create(b_, logits, ValueRange{t, e}).getResult();
  };
  serial([&] {
    k_.loop(k_.index(0), tokens_, 1, [&](Value t) {
      Value maximum = k_.loopCarrying(k_.index(0), k_.index(experts), 1, k_.f32(-INFINITY),
                                      [&](Value e, ValueRange m) {
                                        return SmallVector<Value>{
                                            arith::MaximumFOp::create(b_, m[0], logit(t, e))};
                                      })[0];
      Value total = k_.loopCarrying(
          k_.index(0), k_.index(experts), 1, k_.f32(0), [&](Value e, ValueRange sum) {
            Value p = math::ExpOp::create(b_, arith::SubFOp::create(b_, logit(t, e), maximum));
            memref::StoreOp::create(b_, p, logits, ValueRange{t, e});
            return SmallVector<Value>{arith::AddFOp::create(b_, sum[0], p)};
          })[0];
      Value chosenSum = k_.f32(0);
      SmallVector<Value> picked, probabilities;
      for (int64_t slot = 0; slot < topK; ++slot) {
        SmallVector<Value> best = k_.loopCarrying(
            k_.index(0), k_.index(experts), 1, {k_.index(0), k_.f32(-2)},
            [&](Value e, ValueRange acc) {
              Value p = logit(t, e);
              Value better = arith::CmpFOp::create(b_, arith::CmpFPredicate::OGT, p, acc[1]);
              return SmallVector<Value>{arith::SelectOp::create(b_, better, e, acc[0]),
                                        arith::SelectOp::create(b_, better, p, acc[1])};
            });
        memref::StoreOp::create(b_, k_.f32(-1), logits, ValueRange{t, best[0]});
        picked.push_back(best[0]);
        probabilities.push_back(arith::DivFOp::create(b_, best[1], total));
        chosenSum = arith::AddFOp::create(b_, chosenSum, probabilities.back());
      }
      for (int64_t slot = 0; slot < topK; ++slot) {
        Value scale = memref::LoadOp::create(b_, perExpert, ValueRange{picked[slot]});
        if (!scale.getType().isF32())
          scale = arith::ExtFOp::create(b_, b_.getF32Type(), scale);
        Value w = arith::MulFOp::create(
            b_, arith::DivFOp::create(b_, probabilities[slot], chosenSum), scale);
        Value index = k_.index(slot);
        memref::StoreOp::create(
            b_, arith::IndexCastOp::create(b_, b_.getI64Type(), picked[slot]), chosen,
            ValueRange{t, index});
        memref::StoreOp::create(b_, w, weights, ValueRange{t, index});
      }
    });
  });
}

Value ForwardLowering::lowerMoe(gemma::MoeOp op) {
  int64_t hidden = shapeOf(op.getRouterInput())[1], experts = shapeOf(op.getDown())[0],
          width = shapeOf(op.getDown())[2], topK = op.getTopK();
  // Router logits: rms_norm(r) * router_scale * hidden^-0.5 (the norm's gain is router_scale).
  Value z = scratch({hidden});
  k_.rmsNormRows(buffer(op.getRouterInput()), z, hidden, buffer(op.getRouterScale()),
                 op.getEps().convertToDouble());
  Value inverseRoot = k_.f32(std::pow(double(hidden), -0.5));
  k_.map({z}, z, hidden, [&](ValueRange v, Value) { // the same rows as the norm: no barrier
    return arith::MulFOp::create(b_, v[0], k_.splat(inverseRoot, v[0].getType())).getResult();
  });
  barrier();
  Value logits = scratch({experts});
  k_.linear(z, weight(op.getRouterProj()), {}, 0, experts, logits);
  barrier();
  Value chosen = scratch({topK}, b_.getI64Type()), weights = scratch({topK});
  routeTokens(op, logits, chosen, weights);
  barrier();

  // The experts of each token, one after another; each linear is shared among the workers.
  Value gate = scratch({1, width}, {}, false), up = scratch({1, width}, {}, false);
  Value expertOut = scratch({1, hidden}, {}, false);
  Value out = scratchFor(op.getResult()), input = buffer(op.getExpertInput());
  WeightRows gateUp = weight(op.getGateUp()), down = weight(op.getDown());
  k_.loop(k_.index(0), tokens_, 1, [&](Value t) {
    Value row = memref::SubViewOp::create(
        b_, input, ArrayRef<OpFoldResult>{t, b_.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b_.getIndexAttr(1), b_.getIndexAttr(hidden)},
        ArrayRef<OpFoldResult>{b_.getIndexAttr(1), b_.getIndexAttr(1)});
    serial([&] {
      k_.chunks(hidden, [&](Value i, VectorType type) {
        k_.store(k_.splat(k_.f32(0), type), out, {t}, i);
      });
    });
    for (int64_t slot = 0; slot < topK; ++slot) {
      Value index = k_.index(slot);
      Value e = arith::IndexCastOp::create(
          b_, b_.getIndexType(), memref::LoadOp::create(b_, chosen, ValueRange{t, index}));
      Value w = memref::LoadOp::create(b_, weights, ValueRange{t, index});
      k_.linear(row, gateUp, {e}, 0, width, gate);
      k_.linear(row, gateUp, {e}, width, width, up);
      barrier();
      serial([&] {
        k_.chunks(width, [&](Value i, VectorType type) {
          Value zero = k_.index(0);
          Value g = k_.geluTanh(k_.load(gate, {zero}, i, type));
          k_.store(arith::MulFOp::create(b_, g, k_.load(up, {zero}, i, type)), gate, {zero}, i);
        });
      });
      barrier();
      k_.linear(gate, down, {e}, 0, hidden, expertOut);
      barrier();
      serial([&] {
        k_.chunks(hidden, [&](Value i, VectorType type) {
          Value acc = k_.load(out, {t}, i, type);
          Value y = k_.load(expertOut, {k_.index(0)}, i, type);
          k_.store(vector::FMAOp::create(b_, k_.splat(w, type), y, acc), out, {t}, i);
        });
      });
      barrier();
    }
  });
  for (Value temporary : {z, logits, chosen, weights, gate, up, expertOut})
    release(temporary);
  return out;
}

Value ForwardLowering::lowerLayerScalar(gemma::LayerScalarOp op) {
  Value out = scratchFor(op.getResult());
  Value s = memref::LoadOp::create(b_, buffer(op.getScalar()), ValueRange{k_.index(0)});
  if (!s.getType().isF32())
    s = arith::ExtFOp::create(b_, b_.getF32Type(), s);
  k_.map({buffer(op.getInput())}, out, shapeOf(op.getInput())[1], [&](ValueRange v, Value) {
    return arith::MulFOp::create(b_, v[0], k_.splat(s, v[0].getType())).getResult();
  });
  return out;
}

/// Logits for the last R tokens of the call, R being the rows of the logits buffer: a caller
/// that only samples the next token passes one row and skips the rest of the vocabulary
/// projection.
Value ForwardLowering::lowerLmHead(gemma::LmHeadOp op) {
  int64_t vocab = shapeOf(op.getTable())[0], hidden = shapeOf(op.getInput())[1];
  Value wanted = memref::DimOp::create(b_, logits_, 0);
  Value lastRows = memref::SubViewOp::create(
      b_, buffer(op.getInput()),
      ArrayRef<OpFoldResult>{arith::SubIOp::create(b_, tokens_, wanted).getResult(),
                             b_.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{wanted, b_.getIndexAttr(hidden)},
      ArrayRef<OpFoldResult>{b_.getIndexAttr(1), b_.getIndexAttr(1)});
  k_.linear(lastRows, weight(op.getTable()), {}, 0, vocab, logits_);
  if (std::optional<APFloat> cap = op.getSoftcap()) {
    barrier();
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
  Value out = scratchFor(op.getResult());
  k_.map({k_.flattenRows(buffer(op.getLhs())), k_.flattenRows(buffer(op.getRhs()))},
         k_.flattenRows(out), shapeOf(op.getResult()).back(), [&](ValueRange v, Value) {
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
                    scf::SCFDialect, vector::VectorDialect, func::FuncDialect,
                    LLVM::LLVMDialect>();
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
    auto pointer = LLVM::LLVMPointerType::get(builder.getContext());
    auto barrier = builder.getFunctionType({pointer}, {});
    auto type = builder.getFunctionType(
        {MemRefType::get({ShapedType::kDynamic}, builder.getI32Type()), index, index, bytes,
         bytes, bytes, MemRefType::get({ShapedType::kDynamic, vocab}, builder.getF32Type()),
         index, index, barrier, pointer},
        {});
    auto lowered = func::FuncOp::create(builder, forward.getLoc(), kForwardSymbol, type);
    lowered->setAttr("llvm.emit_c_interface", builder.getUnitAttr());
    ForwardLowering lowering(forward, lowered, {vectorWidth, maxChunk});
    if (failed(lowering.run()))
      return signalPassFailure();
    module->setAttr(kScratchBytesAttr,
                    builder.getI64IntegerAttr(int64_t(lowering.scratchBytes())));
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
