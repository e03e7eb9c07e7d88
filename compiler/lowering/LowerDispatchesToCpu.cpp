//===- LowerDispatchesToCpu.cpp - exec dispatches to CPU kernel functions --===//
//
// Each dispatch of a planned module becomes one public function with the CPU kernel signature
// of ExecutionAbi.h, (bindings, params, worker, workers), made of scf loops, vector
// loads/FMAs/reductions, arith and math ops (KernelBuilder). Its prologue turns each binding
// pointer into a memref of the buffer's type (dimension 0 sized by the call's tokens, the
// logits rows or the cache capacity) and reads the call's parameters; then each step is
// emitted by one short function. Every worker runs the kernel: each step shares its rows,
// tokens or output channels among the workers, and the runtime's barrier between dispatches
// orders the steps that read other workers' results. All shapes but the token count are
// constants, so loop bounds and vector tails are static.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"
#include "compiler/lowering/KernelBuilder.h"
#include "dialects/exec/ExecOps.h"
#include "runtime/common/ExecutionAbi.h"

#include <llvm/ADT/TypeSwitch.h>
#include <mlir/IR/IRMapping.h>

#include <fmt/format.h>

#include <bit>
#include <cmath>

namespace gemc {
#define GEN_PASS_DEF_LOWERDISPATCHESTOCPU
#include "compiler/Passes.h.inc"
} // namespace gemc

using namespace mlir;

namespace gemc {
namespace {

ArrayRef<int64_t> shapeOf(Value value) { return cast<ShapedType>(value.getType()).getShape(); }

class KernelGenerator {
public:
  KernelGenerator(func::FuncOp kernel, int64_t vectorWidth, IntegerDot integerDot,
                  Bf16Dot bf16Dot)
      : kernel_(kernel), b_(kernel.getLoc(), kernel.getContext()),
        k_(b_, vectorWidth, integerDot, bf16Dot) {}

  LogicalResult generate(exec::DispatchOp dispatch);

private:
  /// Reads the parameters and makes a memref of each binding.
  void prologue(exec::DispatchOp dispatch);
  Value memrefAt(Value pointer, MemRefType type, Value firstDim);
  Value param(Param which);
  Value mapped(Value value) { return mapping_.lookup(value); }
  /// The weight rows a weight operand stands for.
  WeightRows weight(Value operand);
  /// [rows, last] view: all dims but the last flattened (or the memref itself at rank 2).
  Value rowsOf(Value memref) { return k_.flattenRows(memref); }
  /// [dim 0, product of the rest] view.
  Value tokenRowsOf(Value memref);
  Value constantTable(const std::string &name, ArrayRef<float> values);
  Value tokenId(Value ids, Value t);

  LogicalResult lower(Operation *op);
  void lowerGatherRows(exec::GatherRowsOp op);
  void lowerQuantizeRows(exec::QuantizeRowsOp op);
  void lowerLinear(exec::LinearOp op);
  void lowerExpertLinear(exec::LinearOp op);
  void lowerRmsNorm(exec::RmsNormOp op);
  void lowerElementwise(exec::ElementwiseOp op);
  void lowerRope(exec::RopeOp op);
  void lowerStoreKv(exec::StoreKvOp op);
  void lowerAttend(exec::AttendOp op);
  void lowerRoute(exec::RouteOp op);
  void lowerCombineExperts(exec::CombineExpertsOp op);

  func::FuncOp kernel_;
  ImplicitLocOpBuilder b_;
  KernelBuilder k_;
  IRMapping mapping_;
  Value params_, tokens_, startPos_, contextLength_, logitsRows_;
};

LogicalResult KernelGenerator::generate(exec::DispatchOp dispatch) {
  b_.setInsertionPointToStart(kernel_.addEntryBlock());
  prologue(dispatch);
  for (Operation &op : dispatch.getBody().front())
    if (failed(lower(&op)))
      return failure();
  func::ReturnOp::create(b_);
  return success();
}

Value KernelGenerator::param(Param which) {
  auto pointer = LLVM::LLVMPointerType::get(b_.getContext());
  Value address = LLVM::GEPOp::create(b_, pointer, b_.getI64Type(), params_,
                                      ArrayRef<LLVM::GEPArg>{int32_t(which)});
  Value value = LLVM::LoadOp::create(b_, b_.getI64Type(), address);
  return arith::IndexCastOp::create(b_, b_.getIndexType(), value);
}

/// A memref of `type` over `pointer`: MLIR's descriptor built by hand, which the memref-to-LLVM
/// conversion then takes as is.
Value KernelGenerator::memrefAt(Value pointer, MemRefType type, Value firstDim) {
  MLIRContext *context = b_.getContext();
  Type i64 = b_.getI64Type();
  int64_t rank = type.getRank();
  auto array = LLVM::LLVMArrayType::get(i64, rank);
  Type ptrType = pointer.getType();
  auto descriptorType = rank ? LLVM::LLVMStructType::getLiteral(
                                   context, {ptrType, ptrType, i64, array, array})
                             : LLVM::LLVMStructType::getLiteral(context, {ptrType, ptrType, i64});
  auto constant = [&](int64_t v) {
    return LLVM::ConstantOp::create(b_, i64, b_.getI64IntegerAttr(v)).getResult();
  };
  Value descriptor = LLVM::PoisonOp::create(b_, descriptorType);
  descriptor = LLVM::InsertValueOp::create(b_, descriptor, pointer, ArrayRef<int64_t>{0});
  descriptor = LLVM::InsertValueOp::create(b_, descriptor, pointer, ArrayRef<int64_t>{1});
  descriptor = LLVM::InsertValueOp::create(b_, descriptor, constant(0), ArrayRef<int64_t>{2});
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    Value size = type.isDynamicDim(d)
                     ? arith::IndexCastOp::create(b_, i64, firstDim).getResult()
                     : constant(type.getDimSize(d));
    descriptor = LLVM::InsertValueOp::create(b_, descriptor, size, ArrayRef<int64_t>{3, d});
    descriptor =
        LLVM::InsertValueOp::create(b_, descriptor, constant(stride), ArrayRef<int64_t>{4, d});
    if (d > 0)
      stride *= type.getDimSize(d);
  }
  return UnrealizedConversionCastOp::create(b_, TypeRange{type}, ValueRange{descriptor})
      .getResult(0);
}

void KernelGenerator::prologue(exec::DispatchOp dispatch) {
  Value bindings = kernel_.getArgument(0);
  params_ = kernel_.getArgument(1);
  k_.setWorkers(kernel_.getArgument(2), kernel_.getArgument(3));
  tokens_ = param(kParamTokens);
  startPos_ = param(kParamStartPos);
  contextLength_ = param(kParamContextLength);
  logitsRows_ = param(kParamLogitsRows);
  auto pointer = LLVM::LLVMPointerType::get(b_.getContext());
  for (auto [i, buffer] : llvm::enumerate(exec::dispatchBindings(dispatch))) {
    Value address = LLVM::GEPOp::create(b_, pointer, pointer, bindings,
                                        ArrayRef<LLVM::GEPArg>{int32_t(i)});
    Value base = LLVM::LoadOp::create(b_, pointer, address);
    Value firstDim = TypeSwitch<Operation *, Value>(buffer)
                         .Case([&](exec::KvCacheOp op) {
                           return op.getRingCapacity() ? k_.index(op.getRingCapacity())
                                                       : contextLength_;
                         })
                         .Case([&](exec::LogitsOp) { return logitsRows_; })
                         .Default([&](Operation *) { return tokens_; });
    Value result = buffer->getResult(0);
    mapping_.map(result, memrefAt(base, cast<MemRefType>(result.getType()), firstDim));
  }
}

WeightRows KernelGenerator::weight(Value operand) {
  auto op = cast<exec::WeightOp>(exec::rootBuffer(operand));
  WeightRows rows{mapped(operand), op.weightFormat(), op.getColumns()};
  if (std::optional<int64_t> tile = op.getTileRows()) {
    rows.data = k_.tileView(rows.data, *tile);
    rows.tileRows = *tile;
  }
  return rows;
}

Value KernelGenerator::tokenRowsOf(Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  if (type.getRank() == 2)
    return memref;
  SmallVector<ReassociationIndices> groups(2);
  groups[0].push_back(0);
  for (int64_t d = 1; d < type.getRank(); ++d)
    groups[1].push_back(d);
  return memref::CollapseShapeOp::create(b_, memref, groups);
}

Value KernelGenerator::tokenId(Value ids, Value t) {
  return arith::IndexCastOp::create(b_, b_.getIndexType(),
                                    memref::LoadOp::create(b_, ids, ValueRange{t}));
}

LogicalResult KernelGenerator::lower(Operation *op) {
  if (!isa<exec::ExecDialect>(op->getDialect())) { // views and the index values they take
    b_.clone(*op, mapping_);
    return success();
  }
  bool lowered = TypeSwitch<Operation *, bool>(op)
                     .Case([&](exec::GatherRowsOp o) { return lowerGatherRows(o), true; })
                     .Case([&](exec::QuantizeRowsOp o) { return lowerQuantizeRows(o), true; })
                     .Case([&](exec::LinearOp o) { return lowerLinear(o), true; })
                     .Case([&](exec::RmsNormOp o) { return lowerRmsNorm(o), true; })
                     .Case([&](exec::ElementwiseOp o) { return lowerElementwise(o), true; })
                     .Case([&](exec::RopeOp o) { return lowerRope(o), true; })
                     .Case([&](exec::StoreKvOp o) { return lowerStoreKv(o), true; })
                     .Case([&](exec::AttendOp o) { return lowerAttend(o), true; })
                     .Case([&](exec::RouteOp o) { return lowerRoute(o), true; })
                     .Case([&](exec::CombineExpertsOp o) { return lowerCombineExperts(o), true; })
                     .Default([](Operation *) { return false; });
  if (!lowered)
    return op->emitOpError("has no CPU kernel");
  return success();
}

void KernelGenerator::lowerGatherRows(exec::GatherRowsOp op) {
  Value out = tokenRowsOf(mapped(op.getOut())), ids = mapped(op.getIds());
  Value scale = k_.f32(op.getScale().convertToDouble());
  auto [begin, end] = k_.share(tokens_);
  k_.loop(begin, end, 1, [&](Value t) {
    k_.walkRow(weight(op.getTable()), {tokenId(ids, t)}, {},
               [&](const RowChunk &chunk, SmallVectorImpl<Value> &) {
                 Value row = chunk.values[0];
                 k_.store(arith::MulFOp::create(b_, row, k_.splat(scale, row.getType())), out,
                          {t}, chunk.column);
               });
  });
}

void KernelGenerator::lowerQuantizeRows(exec::QuantizeRowsOp op) {
  Value x = mapped(op.getX()), out = mapped(op.getOut());
  bool perSlot = shapeOf(out).size() == 3; // x [T, k, K]: a row per slot
  Value xRows = perSlot ? rowsOf(x) : tokenRowsOf(x);
  if (KernelBuilder::isInt8(out))
    k_.quantizeRows(xRows, rowsOf(out), op.columns());
  else
    k_.roundRowsToBf16(xRows, rowsOf(out), op.columns());
}

/// Logits for the last R tokens of the call (the LM head): a caller that only samples the next
/// token asks for one row and skips the rest of the vocabulary projection.
void KernelGenerator::lowerLinear(exec::LinearOp op) {
  if (op.getExperts())
    return lowerExpertLinear(op);
  Value x = tokenRowsOf(mapped(op.getX())), out = tokenRowsOf(mapped(op.getOut()));
  int64_t columns = shapeOf(out)[1];
  if (isa<exec::LogitsOp>(exec::rootBuffer(op.getOut())))
    x = memref::SubViewOp::create(
        b_, x,
        ArrayRef<OpFoldResult>{arith::SubIOp::create(b_, tokens_, logitsRows_).getResult(),
                               b_.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{logitsRows_, b_.getIndexAttr(shapeOf(x)[1])},
        ArrayRef<OpFoldResult>{b_.getIndexAttr(1), b_.getIndexAttr(1)});
  k_.linear(x, weight(op.getW()), {}, op.getFirstRow(), columns, out);
}

/// out[t, s] = x[t(, s)] w[experts[t, s]]^T, expert by expert: the (token, slot) pairs routed
/// to an expert are listed, then its weights are read once for all of them, as one tiled
/// product whose output channels the workers share.
void KernelGenerator::lowerExpertLinear(exec::LinearOp op) {
  Value x = mapped(op.getX()), out = mapped(op.getOut()), experts = mapped(op.getExperts());
  int64_t topK = shapeOf(out)[1], columns = shapeOf(out)[2];
  int64_t numExperts = shapeOf(op.getW())[0];
  bool xPerSlot = shapeOf(x).size() == 3;
  WeightRows w = weight(op.getW());
  Value pairs = arith::MulIOp::create(b_, tokens_, k_.index(topK));
  Value flatX = rowsOf(x), flatOut = rowsOf(out);
  Value flatExperts =
      memref::CollapseShapeOp::create(b_, experts, ArrayRef<ReassociationIndices>{{0, 1}});
  Value list = memref::AllocaOp::create(
      b_, MemRefType::get({ShapedType::kDynamic}, b_.getIndexType()), ValueRange{pairs});
  k_.loop(k_.index(0), k_.index(numExperts), 1, [&](Value e) {
    // Every pair is stored at the list's end, which advances only for this expert's pairs.
    Value count = k_.loopCarrying(
        k_.index(0), pairs, 1, {k_.index(0)}, [&](Value j, ValueRange carried) {
          memref::StoreOp::create(b_, j, list, ValueRange{carried[0]});
          Value routed = arith::IndexCastOp::create(
              b_, b_.getIndexType(),
              memref::LoadOp::create(b_, flatExperts, ValueRange{j}));
          Value match = arith::CmpIOp::create(b_, arith::CmpIPredicate::eq, routed, e);
          return SmallVector<Value>{arith::AddIOp::create(
              b_, carried[0], arith::SelectOp::create(b_, match, k_.index(1), k_.index(0)))};
        })[0];
    auto rowsOf = [&](Value i) {
      Value pair = memref::LoadOp::create(b_, list, ValueRange{i});
      Value xRow = xPerSlot ? pair : arith::DivUIOp::create(b_, pair, k_.index(topK)).getResult();
      return std::pair<Value, Value>{xRow, pair};
    };
    KernelBuilder::GatheredTokens gathered{count, rowsOf};
    k_.linear(flatX, w, {e}, op.getFirstRow(), columns, flatOut, &gathered);
  });
}

void KernelGenerator::lowerRmsNorm(exec::RmsNormOp op) {
  Value gain = op.getGain() ? mapped(op.getGain()) : Value();
  k_.rmsNormRows(rowsOf(mapped(op.getSrc())), rowsOf(mapped(op.getDst())),
                 shapeOf(op.getSrc()).back(), gain, op.getEps().convertToDouble());
}

/// The body, cloned once per vector chunk with its f32 values widened to the chunk's vector
/// type (constants splatted), over this worker's token rows.
void KernelGenerator::lowerElementwise(exec::ElementwiseOp op) {
  SmallVector<Value> sources;
  for (Value input : op.getInputs())
    sources.push_back(tokenRowsOf(mapped(input)));
  SmallVector<Value> scalars;
  for (Value scalar : op.getScalars()) {
    Value value = memref::LoadOp::create(b_, mapped(scalar), ValueRange{k_.index(0)});
    if (!value.getType().isF32())
      value = arith::ExtFOp::create(b_, b_.getF32Type(), value);
    scalars.push_back(value);
  }
  Value out = tokenRowsOf(mapped(op.getOut()));
  Block &body = op.getBody().front();
  k_.map(sources, out, shapeOf(out)[1], [&](ValueRange loaded, Value) {
    Type type = loaded[0].getType();
    IRMapping values;
    for (auto [argument, value] : llvm::zip(body.getArguments().take_front(loaded.size()), loaded))
      values.map(argument, value);
    for (auto [argument, value] : llvm::zip(body.getArguments().drop_front(loaded.size()), scalars))
      values.map(argument, k_.splat(value, type));
    for (Operation &inner : body.without_terminator()) {
      if (isa<arith::ConstantOp>(inner)) {
        values.map(inner.getResult(0), k_.splat(b_.clone(inner)->getResult(0), type));
        continue;
      }
      Operation *clone = b_.clone(inner, values);
      for (Value result : clone->getResults())
        result.setType(type);
    }
    return values.lookup(cast<exec::YieldOp>(body.getTerminator()).getValue());
  });
}

/// A read-only f32 table in the module, as a memref.
Value KernelGenerator::constantTable(const std::string &name, ArrayRef<float> values) {
  auto type = MemRefType::get({int64_t(values.size())}, b_.getF32Type());
  auto module = kernel_->getParentOfType<ModuleOp>();
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

/// Rotate-half RoPE of f32 [T, heads, head dim] in place, token t at position start + t; each
/// worker rotates its share of the tokens.
void KernelGenerator::lowerRope(exec::RopeOp op) {
  Value heads = mapped(op.getHeads());
  int64_t numHeads = shapeOf(heads)[1], headDim = shapeOf(heads)[2], half = headDim / 2;
  int64_t rotated = op.getRotated();
  double theta = op.getTheta().convertToDouble();
  SmallVector<float> invFreqHi, invFreqLo;
  KernelBuilder::ropeInverseFrequencies(theta, headDim, rotated, invFreqHi, invFreqLo);
  std::string table = fmt::format("gemc_rope_{}_{}_{:x}", headDim, rotated,
                                  std::bit_cast<uint64_t>(theta));
  Value hiTable = constantTable(table + "_hi", invFreqHi);
  Value loTable = constantTable(table + "_lo", invFreqLo);
  auto [begin, end] = k_.share(tokens_);
  k_.loop(begin, end, 1, [&](Value t) {
    Value pos = arith::AddIOp::create(b_, startPos_, t);
    Value posF = arith::UIToFPOp::create(
        b_, b_.getF32Type(), arith::IndexCastUIOp::create(b_, b_.getI64Type(), pos));
    k_.chunks(rotated, [&](Value c, VectorType type) {
      Value angle = k_.ropeAngle(k_.splat(posF, type), k_.load(hiTable, {}, c, type),
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

/// Writes the call's K and V rows into the cache at slot position % capacity; each worker
/// stores the tokens it rotated.
void KernelGenerator::lowerStoreKv(exec::StoreKvOp op) {
  Value keys = mapped(op.getKeys()), values = mapped(op.getValues());
  Value cacheK = mapped(op.getCacheK()), cacheV = mapped(op.getCacheV());
  int64_t kvHeads = shapeOf(keys)[1], headDim = shapeOf(keys)[2];
  Value capacity = memref::DimOp::create(b_, cacheK, 0);
  auto [begin, end] = k_.share(tokens_);
  k_.loop(begin, end, 1, [&](Value t) {
    Value slot = arith::RemUIOp::create(b_, arith::AddIOp::create(b_, startPos_, t), capacity);
    k_.loop(kvHeads, [&](Value h) {
      k_.chunks(headDim, [&](Value i, VectorType type) {
        k_.store(k_.load(keys, {t, h}, i, type), cacheK, {slot, h}, i);
        k_.store(k_.load(values, {t, h}, i, type), cacheV, {slot, h}, i);
      });
    });
  });
}

/// out[t, h] = softmax over the visible keys of q[t, h] . k, times v, for this worker's share
/// of the (token, head) pairs. Online softmax: out accumulates p_j * v_j rescaled as the running
/// maximum grows; the final division by the running sum normalizes it.
void KernelGenerator::lowerAttend(exec::AttendOp op) {
  Value queries = mapped(op.getQueries()), out = mapped(op.getOut());
  Value cacheK = mapped(op.getCacheK()), cacheV = mapped(op.getCacheV());
  int64_t heads = shapeOf(queries)[1], headDim = shapeOf(queries)[2];
  int64_t group = heads / shapeOf(cacheK)[1];
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

/// Softmax over each of this worker's tokens' router logits, top-k by repeated argmax (strict
/// >, so ties go to the lower expert; a taken expert's probability becomes -1), renormalised
/// and times per_expert_scale.
void KernelGenerator::lowerRoute(exec::RouteOp op) {
  Value logits = mapped(op.getLogits()), perExpert = mapped(op.getPerExpertScale());
  Value chosen = mapped(op.getChosen()), weights = mapped(op.getWeights());
  int64_t experts = shapeOf(logits)[1], topK = shapeOf(chosen)[1];
  auto logit = [&](Value t, Value e) {
    return memref::LoadOp::create(b_, logits, ValueRange{t, e}).getResult();
  };
  auto [begin, end] = k_.share(tokens_);
  k_.loop(begin, end, 1, [&](Value t) {
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
      memref::StoreOp::create(b_, arith::IndexCastOp::create(b_, b_.getI64Type(), picked[slot]),
                              chosen, ValueRange{t, index});
      memref::StoreOp::create(b_, w, weights, ValueRange{t, index});
    }
  });
}

/// out[t] = sum_s weights[t, s] * expert_out[t, s], slot 0 first, for this worker's tokens.
void KernelGenerator::lowerCombineExperts(exec::CombineExpertsOp op) {
  Value expertOut = mapped(op.getExpertOut()), weights = mapped(op.getWeights());
  Value out = mapped(op.getOut());
  int64_t topK = shapeOf(expertOut)[1], hidden = shapeOf(expertOut)[2];
  auto [begin, end] = k_.share(tokens_);
  k_.loop(begin, end, 1, [&](Value t) {
    k_.chunks(hidden, [&](Value i, VectorType type) {
      Value acc = k_.splat(k_.f32(0), type);
      for (int64_t slot = 0; slot < topK; ++slot) {
        Value s = k_.index(slot);
        Value w = memref::LoadOp::create(b_, weights, ValueRange{t, s});
        acc = vector::FMAOp::create(b_, k_.splat(w, type), k_.load(expertOut, {t, s}, i, type),
                                    acc);
      }
      k_.store(acc, out, {t}, i);
    });
  });
}

struct LowerDispatchesToCpuPass : impl::LowerDispatchesToCpuBase<LowerDispatchesToCpuPass> {
  using LowerDispatchesToCpuBase::LowerDispatchesToCpuBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    if (!forward || !module->hasAttr(kScratchBytesAttr)) {
      module.emitError("expected a forward function of planned dispatches "
                       "(gemc-form-dispatches, gemc-plan-buffers)");
      return signalPassFailure();
    }
    std::optional<IntegerDot> dot = parseIntegerDot(integerDot);
    if (!dot) {
      module.emitError("integer-dot must be vnni, maddubs, sdot or none");
      return signalPassFailure();
    }
    std::optional<Bf16Dot> pairs = parseBf16Dot(bf16Dot);
    if (!pairs) {
      module.emitError("bf16-dot must be all, decode or none");
      return signalPassFailure();
    }
    OpBuilder builder(forward);
    auto pointer = LLVM::LLVMPointerType::get(builder.getContext());
    Type index = builder.getIndexType();
    auto type = builder.getFunctionType({pointer, pointer, index, index}, {});
    for (auto [i, dispatch] : llvm::enumerate(forward.getOps<exec::DispatchOp>())) {
      auto kernel = func::FuncOp::create(builder, dispatch.getLoc(),
                                         kernelSymbol(i, dispatch.getName().str()), type);
      if (failed(KernelGenerator(kernel, vectorWidth, *dot, *pairs).generate(dispatch)))
        return signalPassFailure();
    }
    forward.erase();
  }
};

} // namespace
} // namespace gemc
