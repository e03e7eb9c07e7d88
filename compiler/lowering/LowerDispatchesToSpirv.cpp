//===- LowerDispatchesToSpirv.cpp - exec dispatches to GPU compute kernels --===//
//
// Each dispatch of a planned module with one step per dispatch (gemc-split-dispatches) becomes
// a `gpu.module` holding one `gpu.func` kernel of 64 invocations per workgroup, ready for
// MLIR's gpu-to-spirv conversion. Its arguments are the Vulkan bindings of ExecutionAbi.h:
// binding 0 the call's parameters (i32 [tokens, start, context, logits rows]), then the
// dispatch's buffers in order of first use, each a 1-D runtime array indexed by hand (every
// shape but dimension 0 is static, so every stride is a constant). Element types are the
// ones SPIR-V reads correctly: bf16 weights are read as i16 and widened by a shift (a bf16
// memref is silently miscompiled), quantized rows as bytes. The grid of every kernel is
// `per_token * T + fixed` workgroups, recorded in the module attribute `exec.workgroups`:
// projections give each output channel a workgroup whose invocations split the row and meet
// in a subgroup reduction (subgroup-size agnostic: partial sums of the subgroups go through
// workgroup memory); the other steps give each token row one or more workgroups.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"
#include "compiler/lowering/KernelBuilder.h"
#include "dialects/exec/ExecOps.h"
#include "runtime/common/ExecutionAbi.h"

#include <llvm/ADT/TypeSwitch.h>
#include <mlir/Dialect/GPU/IR/GPUDialect.h>
#include <mlir/Dialect/SPIRV/IR/SPIRVAttributes.h>
#include <mlir/Dialect/SPIRV/IR/TargetAndABI.h>
#include <mlir/IR/IRMapping.h>
#include <mlir/IR/ImplicitLocOpBuilder.h>

#include <cmath>
#include <functional>

namespace gemc {
#define GEN_PASS_DEF_LOWERDISPATCHESTOSPIRV
#include "compiler/Passes.h.inc"
} // namespace gemc

using namespace mlir;

namespace gemc {
namespace {

constexpr int64_t kWorkgroupSize = 64;

int64_t product(ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

/// A buffer as a kernel reads it: element `offset + sum(index_i * strides_i)` of `data`, a 1-D
/// memref; every stride is static. Dimension 0 counts tokens (or slots, rows).
struct Access {
  Value data;
  SmallVector<Value> parts; // a weight: its bindings, rowsPerPart rows each (the last fewer)
  int64_t rowsPerPart = 0;
  int64_t offset = 0;
  SmallVector<int64_t> strides;
  SmallVector<int64_t> shape;
  Operation *root = nullptr;
  /// Elements per row of dimension 0 (the trailing dims, flattened; they are contiguous).
  int64_t rowElements() const { return product(ArrayRef<int64_t>(shape).drop_front()); }
};

/// The grid of a kernel: per_token * T + fixed workgroups.
struct Grid {
  int64_t perToken = 0, fixed = 0;
};

class SpirvKernelGenerator {
public:
  SpirvKernelGenerator(gpu::GPUFuncOp kernel, uint64_t maxBindingBytes)
      : kernel_(kernel), b_(kernel.getLoc(), kernel.getContext()), k_(b_, /*vectorWidth=*/1),
        maxBindingBytes_(maxBindingBytes) {}

  /// Emits `step` into the kernel, whose arguments are the params and `bindings`.
  FailureOr<Grid> generate(Operation *step, ArrayRef<Operation *> bindings);

private:
  Value index(int64_t v) { return k_.index(v); }
  Value f32(double v) { return k_.f32(v); }
  Value i32(int64_t v) { return arith::ConstantOp::create(b_, b_.getI32IntegerAttr(int32_t(v))); }
  Value add(Value a, Value b) { return arith::AddIOp::create(b_, a, b); }
  Value mul(Value a, Value b) { return arith::MulIOp::create(b_, a, b); }
  Value addf(Value a, Value b) { return arith::AddFOp::create(b_, a, b); }
  Value mulf(Value a, Value b) { return arith::MulFOp::create(b_, a, b); }
  Value param(Param which);
  /// The linear element index of `indices` in `a`.
  Value element(const Access &a, ValueRange indices);
  Value load(const Access &a, ValueRange indices);
  void store(Value value, const Access &a, ValueRange indices);
  /// Element `column` of row `row` of a weight in any format, as f32 (from the part that
  /// holds the row).
  Value loadWeight(const Access &w, Value row, Value column);
  Value loadWeightRow(exec::WeightOp op, Value data, Value row, Value column);
  /// Element i of row `row` of a projection's input, f32, int8 or bf16 activations, as f32.
  Value loadInput(const Access &x, ValueRange row, Value i);
  Value byteAt(Value data, Value byte, bool isSigned);
  /// The f16 (or f32 with `wide`) stored little-endian at `byte` of a byte buffer.
  Value scaleAt(Value data, Value byte, bool wide);
  void ifThen(Value condition, function_ref<void()> body);
  /// An f32 array in workgroup memory, made at the kernel's entry.
  Value workgroupArray(int64_t size);
  /// The sum of `value` over the workgroup, as every invocation sees it.
  Value workgroupSum(Value value);
  /// tanh without overflow: sign(x) (1 - 2 / (exp(2|x|) + 1)).
  Value tanh(Value x);

  /// The arguments as buffers (row-major strides from their types) and the dispatch's views.
  void bindAccesses(Operation *step, ArrayRef<Operation *> bindings);

  Grid gatherRows(exec::GatherRowsOp op);
  Grid quantizeRows(exec::QuantizeRowsOp op);
  Grid roundRowsToBf16(exec::QuantizeRowsOp op);
  /// The f32 whose high half is the i16 `bits` (a bf16 value).
  Value bf16ToF32(Value bits);
  Grid linear(exec::LinearOp op);
  Grid rmsNorm(exec::RmsNormOp op);
  Grid elementwise(exec::ElementwiseOp op);
  Grid rope(exec::RopeOp op);
  Grid storeKv(exec::StoreKvOp op);
  Grid attend(exec::AttendOp op);
  Grid route(exec::RouteOp op);
  Grid combineExperts(exec::CombineExpertsOp op);

  gpu::GPUFuncOp kernel_;
  ImplicitLocOpBuilder b_;
  KernelBuilder k_; // its scalar loops and the RoPE angle, shared with the CPU kernels
  uint64_t maxBindingBytes_;
  DenseMap<Value, Access> accesses_;
  Value params_, tid_, group_, tokens_, startPos_, contextLength_, logitsRows_;
  Value partials_; // workgroup memory of the reductions
};

Value SpirvKernelGenerator::param(Param which) {
  Value v = memref::LoadOp::create(b_, params_, ValueRange{index(which)});
  return arith::IndexCastOp::create(b_, b_.getIndexType(), v);
}

Value SpirvKernelGenerator::element(const Access &a, ValueRange indices) {
  Value linear = index(a.offset);
  for (auto [i, v] : llvm::enumerate(indices))
    linear = add(linear, mul(v, index(a.strides[i])));
  return linear;
}

Value SpirvKernelGenerator::load(const Access &a, ValueRange indices) {
  return memref::LoadOp::create(b_, a.data, ValueRange{element(a, indices)});
}

void SpirvKernelGenerator::store(Value value, const Access &a, ValueRange indices) {
  memref::StoreOp::create(b_, value, a.data, ValueRange{element(a, indices)});
}

Value SpirvKernelGenerator::byteAt(Value data, Value byte, bool isSigned) {
  Value b = memref::LoadOp::create(b_, data, ValueRange{byte});
  return isSigned ? arith::ExtSIOp::create(b_, b_.getI32Type(), b).getResult()
                  : arith::ExtUIOp::create(b_, b_.getI32Type(), b).getResult();
}

Value SpirvKernelGenerator::scaleAt(Value data, Value byte, bool wide) {
  Value bits = i32(0);
  for (int64_t k = 0; k < (wide ? 4 : 2); ++k)
    bits = arith::OrIOp::create(
        b_, bits, arith::ShLIOp::create(b_, byteAt(data, add(byte, index(k)), false), i32(8 * k)));
  if (wide)
    return arith::BitcastOp::create(b_, b_.getF32Type(), bits);
  Value half = arith::BitcastOp::create(
      b_, b_.getF16Type(), arith::TruncIOp::create(b_, b_.getI16Type(), bits));
  return arith::ExtFOp::create(b_, b_.getF32Type(), half);
}

Value SpirvKernelGenerator::loadWeight(const Access &w, Value row, Value column) {
  auto op = cast<exec::WeightOp>(w.root);
  if (w.parts.size() == 1)
    return loadWeightRow(op, w.parts[0], row, column);
  // if (part == 0) load from part 0 else if (part == 1) ... else from the last part.
  Value part = arith::DivUIOp::create(b_, row, index(w.rowsPerPart));
  Value local = arith::RemUIOp::create(b_, row, index(w.rowsPerPart));
  std::function<Value(size_t)> select = [&](size_t p) -> Value {
    if (p + 1 == w.parts.size())
      return loadWeightRow(op, w.parts[p], local, column);
    auto ifOp = scf::IfOp::create(
        b_, TypeRange{b_.getF32Type()},
        arith::CmpIOp::create(b_, arith::CmpIPredicate::eq, part, index(int64_t(p))), true);
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPointToStart(ifOp.thenBlock());
    scf::YieldOp::create(b_, loadWeightRow(op, w.parts[p], local, column));
    b_.setInsertionPointToStart(ifOp.elseBlock());
    scf::YieldOp::create(b_, select(p + 1));
    return ifOp.getResult(0);
  };
  return select(0);
}

Value SpirvKernelGenerator::loadWeightRow(exec::WeightOp op, Value data, Value row,
                                          Value column) {
  WeightFormat format = op.weightFormat();
  int64_t columns = op.getColumns();
  if (isFloatFormat(format)) {
    Value v = memref::LoadOp::create(b_, data, ValueRange{add(mul(row, index(columns)), column)});
    if (format == WeightFormat::F16)
      return arith::ExtFOp::create(b_, b_.getF32Type(), v);
    if (format == WeightFormat::BF16)
      return bf16ToF32(v);
    return v;
  }
  RowLayout layout = rowLayout(format, columns);
  Value base = mul(row, index(int64_t(rowBytes(format, columns))));
  Value block = arith::DivUIOp::create(b_, column, index(kQuantBlock));
  Value inBlock = arith::RemUIOp::create(b_, column, index(kQuantBlock));
  Value scaleByte = add(base, mul(block, index(layout.scaleBytes)));
  if (format == WeightFormat::Q8_Ch)
    scaleByte = base;
  Value scale = scaleAt(data, scaleByte, format == WeightFormat::Q8_Ch);
  Value values = add(base, index(layout.valuesOffset));
  Value q;
  if (format == WeightFormat::Q8_0 || format == WeightFormat::Q8_Ch) {
    q = arith::SIToFPOp::create(b_, b_.getF32Type(), byteAt(data, add(values, column), true));
  } else { // value j of a block in byte j % 16: the low nibble for j < 16
    Value byte = byteAt(data, add(add(values, mul(block, index(layout.blockValueBytes))),
                               arith::RemUIOp::create(b_, inBlock, index(16))),
                        false);
    Value high = arith::CmpIOp::create(b_, arith::CmpIPredicate::uge, inBlock, index(16));
    Value nibble = arith::SelectOp::create(b_, high, arith::ShRUIOp::create(b_, byte, i32(4)),
                                           arith::AndIOp::create(b_, byte, i32(15)));
    if (format == WeightFormat::Q4_0)
      q = arith::SIToFPOp::create(b_, b_.getF32Type(), arith::SubIOp::create(b_, nibble, i32(8)));
    else
      q = arith::UIToFPOp::create(b_, b_.getF32Type(), nibble);
  }
  Value decoded = mulf(q, scale);
  if (format == WeightFormat::Q4_1)
    decoded = addf(decoded, scaleAt(data, add(scaleByte, index(2)), false));
  return decoded;
}

void SpirvKernelGenerator::ifThen(Value condition, function_ref<void()> body) {
  auto ifOp = scf::IfOp::create(b_, condition, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  body();
}

Value SpirvKernelGenerator::workgroupArray(int64_t size) {
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPointToStart(&kernel_.getBody().front());
  return memref::AllocOp::create(
      b_, MemRefType::get({size}, b_.getF32Type(), MemRefLayoutAttrInterface(),
                          spirv::StorageClassAttr::get(b_.getContext(),
                                                       spirv::StorageClass::Workgroup)));
}

Value SpirvKernelGenerator::workgroupSum(Value value) {
  if (!partials_)
    partials_ = workgroupArray(kWorkgroupSize);
  Value sum = gpu::SubgroupReduceOp::create(b_, value, gpu::AllReduceOperation::ADD,
                                            /*uniform=*/false);
  Value lane = gpu::LaneIdOp::create(b_, IntegerAttr());
  Value subgroup = gpu::SubgroupIdOp::create(b_, IntegerAttr());
  Value subgroups = gpu::NumSubgroupsOp::create(b_, IntegerAttr());
  gpu::BarrierOp::create(b_); // the last sum's readers are done with partials_
  ifThen(arith::CmpIOp::create(b_, arith::CmpIPredicate::eq, lane, index(0)),
         [&] { memref::StoreOp::create(b_, sum, partials_, ValueRange{subgroup}); });
  gpu::BarrierOp::create(b_);
  return k_.loopCarrying(index(0), subgroups, 1, {f32(0)}, [&](Value s, ValueRange acc) {
    Value partial = memref::LoadOp::create(b_, partials_, ValueRange{s});
    return SmallVector<Value>{addf(acc[0], partial)};
  })[0];
}

Value SpirvKernelGenerator::tanh(Value x) {
  Value magnitude = math::AbsFOp::create(b_, x);
  Value e = math::ExpOp::create(b_, mulf(magnitude, f32(2)));
  Value t = arith::SubFOp::create(b_, f32(1), arith::DivFOp::create(b_, f32(2), addf(e, f32(1))));
  return math::CopySignOp::create(b_, t, x);
}

void SpirvKernelGenerator::bindAccesses(Operation *step, ArrayRef<Operation *> bindings) {
  Block &entry = kernel_.getBody().front();
  params_ = entry.getArgument(0);
  unsigned argument = 1;
  for (Operation *buffer : bindings) {
    Access a;
    a.data = entry.getArgument(argument);
    a.root = buffer;
    if (auto weight = dyn_cast<exec::WeightOp>(buffer)) {
      a.rowsPerPart = weight.rowsPerBinding(maxBindingBytes_);
      for (int64_t row = 0; row < weight.rows(); row += a.rowsPerPart)
        a.parts.push_back(entry.getArgument(argument++));
    } else {
      ++argument;
    }
    auto type = cast<MemRefType>(buffer->getResult(0).getType());
    a.shape.assign(type.getShape().begin(), type.getShape().end());
    a.strides.assign(a.shape.size(), 1);
    for (int64_t d = int64_t(a.shape.size()) - 2; d >= 0; --d)
      a.strides[d] = a.strides[d + 1] * a.shape[d + 1];
    accesses_[buffer->getResult(0)] = a;
  }
  // Views inside the dispatch: static subviews of a buffer.
  for (Operation &op : step->getParentRegion()->front()) {
    auto view = dyn_cast<memref::SubViewOp>(op);
    if (!view)
      continue;
    Access a = accesses_.lookup(view.getSource());
    SmallVector<int64_t> strides, shape;
    llvm::SmallBitVector dropped = view.getDroppedDims();
    for (auto [d, offset] : llvm::enumerate(view.getStaticOffsets()))
      a.offset += offset * a.strides[d];
    for (auto [d, size] : llvm::enumerate(view.getStaticSizes()))
      if (!dropped.test(d)) {
        strides.push_back(a.strides[d] * view.getStaticStrides()[d]);
        shape.push_back(size);
      }
    a.strides = strides;
    a.shape = shape;
    accesses_[view.getResult()] = a;
  }
}

FailureOr<Grid> SpirvKernelGenerator::generate(Operation *step, ArrayRef<Operation *> bindings) {
  Block &entry = kernel_.getBody().front();
  b_.setInsertionPointToStart(&entry);
  bindAccesses(step, bindings);
  tid_ = gpu::ThreadIdOp::create(b_, gpu::Dimension::x);
  // Grids wider than a dimension's 65535 workgroups are folded into y: group = y * width + x.
  group_ = add(mul(gpu::BlockIdOp::create(b_, gpu::Dimension::y),
                   gpu::GridDimOp::create(b_, gpu::Dimension::x)),
               gpu::BlockIdOp::create(b_, gpu::Dimension::x));
  tokens_ = param(kParamTokens);
  startPos_ = param(kParamStartPos);
  contextLength_ = param(kParamContextLength);
  logitsRows_ = param(kParamLogitsRows);
  Operation *prologueEnd = logitsRows_.getDefiningOp();
  std::optional<Grid> grid =
      TypeSwitch<Operation *, std::optional<Grid>>(step)
          .Case([&](exec::GatherRowsOp o) { return gatherRows(o); })
          .Case([&](exec::QuantizeRowsOp o) { return quantizeRows(o); })
          .Case([&](exec::LinearOp o) { return linear(o); })
          .Case([&](exec::RmsNormOp o) { return rmsNorm(o); })
          .Case([&](exec::ElementwiseOp o) { return elementwise(o); })
          .Case([&](exec::RopeOp o) { return rope(o); })
          .Case([&](exec::StoreKvOp o) { return storeKv(o); })
          .Case([&](exec::AttendOp o) { return attend(o); })
          .Case([&](exec::RouteOp o) { return route(o); })
          .Case([&](exec::CombineExpertsOp o) { return combineExperts(o); })
          .Default([](Operation *) { return std::nullopt; });
  if (!grid)
    return step->emitOpError("has no GPU kernel");
  // The step's code runs in the workgroups of the grid only (a folded grid has a few more):
  // move it under `if (group < per_token * T + fixed)`.
  SmallVector<Operation *> body;
  for (Operation *op = prologueEnd->getNextNode(); op; op = op->getNextNode())
    body.push_back(op);
  b_.setInsertionPointAfter(prologueEnd);
  Value total = add(mul(tokens_, index(grid->perToken)), index(grid->fixed));
  auto inGrid = scf::IfOp::create(
      b_, arith::CmpIOp::create(b_, arith::CmpIPredicate::ult, group_, total), false);
  for (Operation *op : body)
    op->moveBefore(inGrid.thenBlock()->getTerminator());
  b_.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b_);
  return *grid;
}

/// out[t] = table[ids[t]] * scale: a workgroup per token.
Grid SpirvKernelGenerator::gatherRows(exec::GatherRowsOp op) {
  const Access &ids = accesses_[op.getIds()], &table = accesses_[op.getTable()];
  const Access &out = accesses_[op.getOut()];
  int64_t width = out.rowElements();
  Value t = group_;
  Value row = arith::IndexCastOp::create(b_, b_.getIndexType(), load(ids, {t}));
  Value scale = f32(op.getScale().convertToDouble());
  k_.loop(tid_, index(width), kWorkgroupSize, [&](Value c) {
    memref::StoreOp::create(b_, mulf(loadWeight(table, row, c), scale), out.data,
                            ValueRange{add(element(out, {t}), c)});
  });
  return {1, 0};
}

Value SpirvKernelGenerator::bf16ToF32(Value bits) {
  Value wide = arith::ExtUIOp::create(b_, b_.getI32Type(), bits);
  return arith::BitcastOp::create(b_, b_.getF32Type(), arith::ShLIOp::create(b_, wide, i32(16)));
}

/// bf16 activations (WeightFormat.h): a workgroup per row, its invocations splitting the row.
Grid SpirvKernelGenerator::roundRowsToBf16(exec::QuantizeRowsOp op) {
  const Access &x = accesses_[op.getX()], &out = accesses_[op.getOut()];
  int64_t columns = op.columns();
  Value xRow = add(index(x.offset), mul(group_, index(columns)));
  Value outRow = add(index(out.offset), mul(group_, index(columns)));
  k_.loop(tid_, index(columns), kWorkgroupSize, [&](Value i) {
    Value value = memref::LoadOp::create(b_, x.data, ValueRange{add(xRow, i)});
    memref::StoreOp::create(b_, k_.roundToBf16Bits(value), out.data, ValueRange{add(outRow, i)});
  });
  return {out.shape.size() == 3 ? out.shape[1] : 1, 0};
}

/// int8 activations (WeightFormat.h): a workgroup per row, an invocation per block of 32.
Grid SpirvKernelGenerator::quantizeRows(exec::QuantizeRowsOp op) {
  const Access &x = accesses_[op.getX()], &out = accesses_[op.getOut()];
  if (!KernelBuilder::isInt8(out.data))
    return roundRowsToBf16(op);
  int64_t columns = op.columns(), blocks = (columns + kQuantBlock - 1) / kQuantBlock;
  int64_t rowsPerToken = out.shape.size() == 3 ? out.shape[1] : 1;
  Value xRow = add(index(x.offset), mul(group_, index(columns)));
  Value outRow = add(index(out.offset), mul(group_, index(out.shape.back())));
  k_.loop(tid_, index(blocks), kWorkgroupSize, [&](Value block) {
    Value start = mul(block, index(kQuantBlock));
    Value length = arith::MinUIOp::create(b_, index(kQuantBlock),
                                          arith::SubIOp::create(b_, index(columns), start));
    auto value = [&](Value j) {
      return memref::LoadOp::create(b_, x.data, ValueRange{add(xRow, add(start, j))});
    };
    Value amax = k_.loopCarrying(index(0), length, 1, {f32(0)}, [&](Value j, ValueRange m) {
      return SmallVector<Value>{
          arith::MaximumFOp::create(b_, m[0], math::AbsFOp::create(b_, value(j)))};
    })[0];
    Value d = arith::DivFOp::create(b_, amax, f32(127));
    Value inverse = arith::SelectOp::create(
        b_, arith::CmpFOp::create(b_, arith::CmpFPredicate::OEQ, d, f32(0)), f32(0),
        arith::DivFOp::create(b_, f32(1), d));
    auto storeWord = [&](Value bits, Value byte) { // little-endian
      for (int64_t k = 0; k < 4; ++k)
        memref::StoreOp::create(
            b_, arith::TruncIOp::create(b_, b_.getI8Type(),
                                        arith::ShRUIOp::create(b_, bits, i32(8 * k))),
            out.data, ValueRange{add(outRow, add(byte, index(k)))});
    };
    storeWord(arith::BitcastOp::create(b_, b_.getI32Type(), d), mul(block, index(4)));
    Value values = add(outRow, add(index(activationValuesOffset(out.shape.back())), start));
    k_.loop(index(0), length, 1, [&](Value j) {
      Value q = arith::FPToSIOp::create(b_, b_.getI8Type(),
                                        math::RoundEvenOp::create(b_, mulf(value(j), inverse)));
      memref::StoreOp::create(b_, q, out.data, ValueRange{add(values, j)});
    });
    k_.loop(length, index(kQuantBlock), 1, [&](Value j) { // the short last block's zeros
      memref::StoreOp::create(b_, arith::ConstantOp::create(b_, b_.getI8IntegerAttr(0)),
                              out.data, ValueRange{add(values, j)});
    });
    Value corrections = add(index(activationCorrectionsOffset(out.shape.back())),
                            mul(block, index(4 * kActivationCorrections)));
    for (int64_t k = 0; k < kActivationCorrections; ++k) { // c_k from the stored values
      Value sum = i32(0);
      for (int64_t j : {4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3})
        for (int64_t half : {0, 16})
          sum =
              arith::AddIOp::create(b_, sum, byteAt(out.data, add(values, index(half + j)), true));
      storeWord(arith::MulIOp::create(b_, sum, i32(-8)), add(corrections, index(4 * k)));
    }
  });
  return {rowsPerToken, 0};
}

Value SpirvKernelGenerator::loadInput(const Access &x, ValueRange row, Value i) {
  Value start = element(x, row);
  Type element = cast<MemRefType>(x.data.getType()).getElementType();
  if (element.isInteger(16)) // bf16 activations
    return bf16ToF32(memref::LoadOp::create(b_, x.data, ValueRange{add(start, i)}));
  if (!element.isInteger(8))
    return memref::LoadOp::create(b_, x.data, ValueRange{add(start, i)});
  Value block = arith::DivUIOp::create(b_, i, index(kQuantBlock));
  Value scale = scaleAt(x.data, add(start, mul(block, index(4))), /*wide=*/true);
  Value q = byteAt(x.data, add(start, add(index(activationValuesOffset(x.shape.back())), i)),
                   /*isSigned=*/true);
  return mulf(arith::SIToFPOp::create(b_, b_.getF32Type(), q), scale);
}

/// out[r, o] = x[X - R + r] . w[first_row + o]: a workgroup per output channel (per token
/// slot and channel with experts), its invocations splitting the row.
Grid SpirvKernelGenerator::linear(exec::LinearOp op) {
  const Access &x = accesses_[op.getX()], &w = accesses_[op.getW()];
  const Access &out = accesses_[op.getOut()];
  // x [T, K...] (trailing dims flattened), or with experts [T, k, K]: a row per slot.
  int64_t k = cast<exec::WeightOp>(w.root).getColumns();
  auto dot = [&](ValueRange xRow, Value wRow) {
    Value partial = k_.loopCarrying(tid_, index(k), kWorkgroupSize, {f32(0)},
                         [&](Value i, ValueRange acc) {
                           return SmallVector<Value>{math::FmaOp::create(
                               b_, loadInput(x, xRow, i), loadWeight(w, wRow, i), acc[0])};
                         })[0];
    return workgroupSum(partial);
  };
  auto storeOnce = [&](Value value, Value at) {
    ifThen(arith::CmpIOp::create(b_, arith::CmpIPredicate::eq, tid_, index(0)),
           [&] { memref::StoreOp::create(b_, value, out.data, ValueRange{at}); });
  };
  if (Value expertsValue = op.getExperts()) {
    const Access &experts = accesses_[expertsValue];
    int64_t slots = out.shape[1], columns = out.shape[2], rows = w.shape[1];
    Value pair = arith::DivUIOp::create(b_, group_, index(columns));
    Value o = arith::RemUIOp::create(b_, group_, index(columns));
    Value t = arith::DivUIOp::create(b_, pair, index(slots));
    Value s = arith::RemUIOp::create(b_, pair, index(slots));
    Value e = arith::IndexCastOp::create(b_, b_.getIndexType(), load(experts, {t, s}));
    Value wRow = add(mul(e, index(rows)), add(index(op.getFirstRow()), o));
    SmallVector<Value> xRow{t};
    if (x.shape.size() == 3) // x [T, k, K]: each slot its own row
      xRow.push_back(s);
    storeOnce(dot(xRow, wRow), add(element(out, {t, s}), o));
    return {slots * columns, 0};
  }
  int64_t columns = out.rowElements();
  Value o = group_;
  bool lastRows = isa<exec::LogitsOp>(out.root);
  Value rows = lastRows ? logitsRows_ : tokens_;
  Value skipped = lastRows ? arith::SubIOp::create(b_, tokens_, rows).getResult() : index(0);
  k_.loop(index(0), rows, 1, [&](Value r) {
    storeOnce(dot({add(skipped, r)}, add(index(op.getFirstRow()), o)),
              add(element(out, {r}), o));
  });
  return {0, columns};
}

/// A workgroup per row: the mean square reduced over the workgroup, then the row scaled.
Grid SpirvKernelGenerator::rmsNorm(exec::RmsNormOp op) {
  const Access &src = accesses_[op.getSrc()], &dst = accesses_[op.getDst()];
  int64_t width = src.shape.back();
  int64_t rowsPerToken = product(ArrayRef<int64_t>(src.shape).drop_front().drop_back());
  Value row = group_; // rows are contiguous: row r starts at r * width
  Value start = mul(row, index(width));
  Value partial = k_.loopCarrying(tid_, index(width), kWorkgroupSize, {f32(0)},
                       [&](Value i, ValueRange acc) {
                         Value v = memref::LoadOp::create(
                             b_, src.data, ValueRange{add(index(src.offset), add(start, i))});
                         return SmallVector<Value>{math::FmaOp::create(b_, v, v, acc[0])};
                       })[0];
  Value meanSquare = arith::DivFOp::create(b_, workgroupSum(partial), f32(double(width)));
  Value scale = math::RsqrtOp::create(b_, addf(meanSquare, f32(op.getEps().convertToDouble())));
  gpu::BarrierOp::create(b_); // dst may be src: every read of the row is done
  k_.loop(tid_, index(width), kWorkgroupSize, [&](Value i) {
    Value v =
        memref::LoadOp::create(b_, src.data, ValueRange{add(index(src.offset), add(start, i))});
    Value y = mulf(v, scale);
    if (op.getGain())
      y = mulf(y, loadWeight(accesses_[op.getGain()], index(0), i));
    memref::StoreOp::create(b_, y, dst.data, ValueRange{add(index(dst.offset), add(start, i))});
  });
  return {rowsPerToken, 0};
}

/// The body on scalars, an invocation per element: ceil(width / 64) workgroups per token.
Grid SpirvKernelGenerator::elementwise(exec::ElementwiseOp op) {
  const Access &out = accesses_[op.getOut()];
  int64_t width = out.rowElements(), groups = (width + kWorkgroupSize - 1) / kWorkgroupSize;
  SmallVector<Value> scalars;
  for (Value scalar : op.getScalars())
    scalars.push_back(loadWeight(accesses_[scalar], index(0), index(0)));
  Value t = arith::DivUIOp::create(b_, group_, index(groups));
  Value i = add(mul(arith::RemUIOp::create(b_, group_, index(groups)), index(kWorkgroupSize)),
                tid_);
  ifThen(arith::CmpIOp::create(b_, arith::CmpIPredicate::ult, i, index(width)), [&] {
    Block &body = op.getBody().front();
    IRMapping values;
    for (auto [argument, input] : llvm::zip(body.getArguments(), op.getInputs())) {
      const Access &a = accesses_[input];
      values.map(argument, memref::LoadOp::create(b_, a.data, ValueRange{add(element(a, {t}), i)}));
    }
    for (auto [argument, scalar] :
         llvm::zip(body.getArguments().drop_front(op.getInputs().size()), scalars))
      values.map(argument, scalar);
    for (Operation &inner : body.without_terminator()) {
      if (auto t = dyn_cast<math::TanhOp>(inner))
        values.map(t.getResult(), tanh(values.lookup(t.getOperand())));
      else
        b_.clone(inner, values);
    }
    Value result = values.lookup(cast<exec::YieldOp>(body.getTerminator()).getValue());
    memref::StoreOp::create(b_, result, out.data, ValueRange{add(element(out, {t}), i)});
  });
  return {groups, 0};
}

/// Rotate-half RoPE, a workgroup per token, an invocation per (head, pair). The inverse
/// frequencies are double-float constants written into workgroup memory first; the angle is
/// KernelBuilder::ropeAngle's, as on the CPU.
Grid SpirvKernelGenerator::rope(exec::RopeOp op) {
  const Access &heads = accesses_[op.getHeads()];
  int64_t numHeads = heads.shape[1], headDim = heads.shape[2], rotated = op.getRotated();
  double theta = op.getTheta().convertToDouble();
  SmallVector<float> invFreqHi, invFreqLo;
  KernelBuilder::ropeInverseFrequencies(theta, headDim, rotated, invFreqHi, invFreqLo);
  Value table = workgroupArray(2 * rotated);
  ifThen(arith::CmpIOp::create(b_, arith::CmpIPredicate::eq, tid_, index(0)), [&] {
    for (int64_t c = 0; c < rotated; ++c) {
      memref::StoreOp::create(b_, f32(invFreqHi[c]), table, ValueRange{index(2 * c)});
      memref::StoreOp::create(b_, f32(invFreqLo[c]), table, ValueRange{index(2 * c + 1)});
    }
  });
  gpu::BarrierOp::create(b_);
  Value t = group_;
  Value posF = arith::UIToFPOp::create(
      b_, b_.getF32Type(),
      arith::IndexCastUIOp::create(b_, b_.getI32Type(), add(startPos_, t)));
  k_.loop(tid_, index(numHeads * rotated), kWorkgroupSize, [&](Value pair) {
    Value h = arith::DivUIOp::create(b_, pair, index(rotated));
    Value c = arith::RemUIOp::create(b_, pair, index(rotated));
    Value hiF = memref::LoadOp::create(b_, table, ValueRange{mul(c, index(2))});
    Value loF = memref::LoadOp::create(b_, table, ValueRange{add(mul(c, index(2)), index(1))});
    Value angle = k_.ropeAngle(posF, hiF, loF);
    Value cos = math::CosOp::create(b_, angle), sin = math::SinOp::create(b_, angle);
    Value partner = add(c, index(headDim / 2));
    Value a = load(heads, {t, h, c}), bv = load(heads, {t, h, partner});
    store(arith::SubFOp::create(b_, mulf(a, cos), mulf(bv, sin)), heads, {t, h, c});
    store(addf(mulf(bv, cos), mulf(a, sin)), heads, {t, h, partner});
  });
  return {1, 0};
}

/// cache[(P + t) % capacity] = keys[t] (and values): a workgroup per token.
Grid SpirvKernelGenerator::storeKv(exec::StoreKvOp op) {
  const Access &keys = accesses_[op.getKeys()], &values = accesses_[op.getValues()];
  const Access &cacheK = accesses_[op.getCacheK()], &cacheV = accesses_[op.getCacheV()];
  int64_t ring = cast<exec::KvCacheOp>(cacheK.root).getRingCapacity();
  Value capacity = ring ? index(ring) : contextLength_;
  Value t = group_;
  Value slot = arith::RemUIOp::create(b_, add(startPos_, t), capacity);
  k_.loop(tid_, index(keys.rowElements()), kWorkgroupSize, [&](Value i) {
    memref::StoreOp::create(
        b_, memref::LoadOp::create(b_, keys.data, ValueRange{add(element(keys, {t}), i)}),
        cacheK.data, ValueRange{add(element(cacheK, {slot}), i)});
    memref::StoreOp::create(
        b_, memref::LoadOp::create(b_, values.data, ValueRange{add(element(values, {t}), i)}),
        cacheV.data, ValueRange{add(element(cacheV, {slot}), i)});
  });
  return {1, 0};
}

/// Online softmax over the visible keys, an invocation per query head of a token.
Grid SpirvKernelGenerator::attend(exec::AttendOp op) {
  const Access &q = accesses_[op.getQueries()], &out = accesses_[op.getOut()];
  const Access &cacheK = accesses_[op.getCacheK()], &cacheV = accesses_[op.getCacheV()];
  int64_t heads = q.shape[1], headDim = q.shape[2], group = heads / cacheK.shape[1];
  int64_t ring = cast<exec::KvCacheOp>(cacheK.root).getRingCapacity();
  Value capacity = ring ? index(ring) : contextLength_;
  Value t = group_;
  Value last = add(add(startPos_, t), index(1));
  Value first = index(0);
  if (std::optional<int64_t> window = op.getSlidingWindow())
    first = arith::SubIOp::create(b_, arith::MaxUIOp::create(b_, last, index(*window)),
                                  index(*window));
  Value dim = index(headDim), zero = index(0);
  k_.loop(tid_, index(heads), kWorkgroupSize, [&](Value h) {
    Value kvHead = arith::DivUIOp::create(b_, h, index(group));
    k_.loop(zero, dim, 1, [&](Value i) { store(f32(0), out, {t, h, i}); });
    SmallVector<Value> state = k_.loopCarrying(
        first, last, 1, {f32(-INFINITY), f32(0)}, [&](Value j, ValueRange carried) {
          Value slot = arith::RemUIOp::create(b_, j, capacity);
          Value score = k_.loopCarrying(zero, dim, 1, {f32(0)}, [&](Value i, ValueRange acc) {
            return SmallVector<Value>{math::FmaOp::create(
                b_, load(q, {t, h, i}), load(cacheK, {slot, kvHead, i}), acc[0])};
          })[0];
          Value maximum = arith::MaximumFOp::create(b_, carried[0], score);
          Value rescale = math::ExpOp::create(b_, arith::SubFOp::create(b_, carried[0], maximum));
          Value weight = math::ExpOp::create(b_, arith::SubFOp::create(b_, score, maximum));
          k_.loop(zero, dim, 1, [&](Value i) {
            Value acc = mulf(load(out, {t, h, i}), rescale);
            store(math::FmaOp::create(b_, weight, load(cacheV, {slot, kvHead, i}), acc), out,
                  {t, h, i});
          });
          return SmallVector<Value>{maximum, addf(mulf(carried[1], rescale), weight)};
        });
    Value inverse = arith::DivFOp::create(b_, f32(1), state[1]);
    k_.loop(zero, dim, 1, [&](Value i) {
      store(mulf(load(out, {t, h, i}), inverse), out, {t, h, i});
    });
  });
  return {1, 0};
}

/// Softmax, top-k by repeated argmax (ties to the lower expert) and the expert weights of one
/// token, on the workgroup's first invocation.
Grid SpirvKernelGenerator::route(exec::RouteOp op) {
  const Access &logits = accesses_[op.getLogits()], &scale = accesses_[op.getPerExpertScale()];
  const Access &chosen = accesses_[op.getChosen()], &weights = accesses_[op.getWeights()];
  int64_t experts = logits.shape[1], topK = chosen.shape[1];
  Value t = group_, zero = index(0), count = index(experts);
  ifThen(arith::CmpIOp::create(b_, arith::CmpIPredicate::eq, tid_, zero), [&] {
    Value maximum = k_.loopCarrying(zero, count, 1, {f32(-INFINITY)}, [&](Value e, ValueRange m) {
      return SmallVector<Value>{arith::MaximumFOp::create(b_, m[0], load(logits, {t, e}))};
    })[0];
    Value total = k_.loopCarrying(zero, count, 1, {f32(0)}, [&](Value e, ValueRange sum) {
      Value p = math::ExpOp::create(b_, arith::SubFOp::create(b_, load(logits, {t, e}), maximum));
      store(p, logits, {t, e});
      return SmallVector<Value>{addf(sum[0], p)};
    })[0];
    Value chosenSum = f32(0);
    SmallVector<Value> picked, probabilities;
    for (int64_t slot = 0; slot < topK; ++slot) {
      SmallVector<Value> best =
          k_.loopCarrying(zero, count, 1, {zero, f32(-2)}, [&](Value e, ValueRange acc) {
            Value p = load(logits, {t, e});
            Value better = arith::CmpFOp::create(b_, arith::CmpFPredicate::OGT, p, acc[1]);
            return SmallVector<Value>{arith::SelectOp::create(b_, better, e, acc[0]),
                                      arith::SelectOp::create(b_, better, p, acc[1])};
          });
      store(f32(-1), logits, {t, best[0]});
      picked.push_back(best[0]);
      probabilities.push_back(arith::DivFOp::create(b_, best[1], total));
      chosenSum = addf(chosenSum, probabilities.back());
    }
    for (int64_t slot = 0; slot < topK; ++slot) {
      Value w = mulf(arith::DivFOp::create(b_, probabilities[slot], chosenSum),
                     loadWeight(scale, index(0), picked[slot]));
      store(arith::IndexCastOp::create(b_, b_.getI64Type(), picked[slot]), chosen,
            {t, index(slot)});
      store(w, weights, {t, index(slot)});
    }
  });
  return {1, 0};
}

/// out[t, i] = sum_s weights[t, s] * expert_out[t, s, i], slot 0 first.
Grid SpirvKernelGenerator::combineExperts(exec::CombineExpertsOp op) {
  const Access &expertOut = accesses_[op.getExpertOut()], &weights = accesses_[op.getWeights()];
  const Access &out = accesses_[op.getOut()];
  int64_t topK = expertOut.shape[1], width = expertOut.shape[2];
  int64_t groups = (width + kWorkgroupSize - 1) / kWorkgroupSize;
  Value t = arith::DivUIOp::create(b_, group_, index(groups));
  Value i = add(mul(arith::RemUIOp::create(b_, group_, index(groups)), index(kWorkgroupSize)),
                tid_);
  ifThen(arith::CmpIOp::create(b_, arith::CmpIPredicate::ult, i, index(width)), [&] {
    Value acc = f32(0);
    for (int64_t slot = 0; slot < topK; ++slot) {
      Value s = index(slot);
      acc = math::FmaOp::create(b_, load(weights, {t, s}), load(expertOut, {t, s, i}), acc);
    }
    store(acc, out, {t, i});
  });
  return {groups, 0};
}

/// The element type a binding has in SPIR-V (bf16 as its bits).
Type spirvElementType(Operation *buffer) {
  auto type = cast<MemRefType>(buffer->getResult(0).getType());
  Type element = type.getElementType();
  return element.isBF16() ? IntegerType::get(element.getContext(), 16) : element;
}

struct LowerDispatchesToSpirvPass
    : impl::LowerDispatchesToSpirvBase<LowerDispatchesToSpirvPass> {
  using LowerDispatchesToSpirvBase::LowerDispatchesToSpirvBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    if (!forward || !module->hasAttr(kScratchBytesAttr)) {
      module.emitError("expected a forward function of planned dispatches "
                       "(gemc-form-dispatches, gemc-split-dispatches, gemc-plan-buffers)");
      return signalPassFailure();
    }
    MLIRContext *context = module.getContext();
    OpBuilder builder(forward);
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), builder.getUnitAttr());
    module->setAttr(spirv::getTargetEnvAttrName(), vulkanTargetEnv(context));
    SmallVector<Attribute> grids;
    for (auto [i, dispatch] : llvm::enumerate(forward.getOps<exec::DispatchOp>())) {
      SmallVector<Operation *> steps;
      for (Operation &op : dispatch.getBody().front())
        if (isa<exec::ExecDialect>(op.getDialect()))
          steps.push_back(&op);
      if (steps.size() != 1) {
        dispatch.emitOpError("must hold one step (gemc-split-dispatches)");
        return signalPassFailure();
      }
      SmallVector<Operation *> bindings = exec::dispatchBindings(dispatch);
      SmallVector<Type> arguments{
          MemRefType::get({ShapedType::kDynamic}, builder.getI32Type())};
      for (Operation *buffer : bindings) {
        auto weight = dyn_cast<exec::WeightOp>(buffer);
        int64_t parts = 1;
        if (weight) // as readMemoryPlan binds it: parts of whole rows
          parts = (weight.rows() + weight.rowsPerBinding(maxBindingBytes) - 1) /
                  weight.rowsPerBinding(maxBindingBytes);
        arguments.append(size_t(parts),
                         MemRefType::get({ShapedType::kDynamic}, spirvElementType(buffer)));
      }
      std::string name = kernelSymbol(i, dispatch.getName().str());
      auto gpuModule = gpu::GPUModuleOp::create(builder, dispatch.getLoc(), name);
      OpBuilder inner = OpBuilder::atBlockBegin(gpuModule.getBody());
      // Every entry point is called `main`, so kernels with the same code (the same step on
      // the same shapes, in another layer) are the same module, stored and compiled once.
      auto kernel = gpu::GPUFuncOp::create(inner, dispatch.getLoc(), kSpirvEntryPoint,
                                           inner.getFunctionType(arguments, {}));
      kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), inner.getUnitAttr());
      kernel->setAttr(spirv::getEntryPointABIAttrName(),
                      spirv::getEntryPointABIAttr(context, {int32_t(kWorkgroupSize), 1, 1}));
      FailureOr<Grid> grid =
          SpirvKernelGenerator(kernel, maxBindingBytes).generate(steps[0], bindings);
      if (failed(grid))
        return signalPassFailure();
      grids.push_back(builder.getDenseI64ArrayAttr({grid->perToken, grid->fixed}));
    }
    module->setAttr(kWorkgroupsAttr, builder.getArrayAttr(grids));
    forward.erase();
  }

  /// Vulkan 1.1 with 8/16-bit storage, f16, 64-bit integers and subgroup arithmetic: what
  /// lavapipe and current NVIDIA, AMD and Intel drivers all have.
  static spirv::TargetEnvAttr vulkanTargetEnv(MLIRContext *context) {
    using C = spirv::Capability;
    using E = spirv::Extension;
    auto triple = spirv::VerCapExtAttr::get(
        spirv::Version::V_1_3,
        {C::Shader, C::Float16, C::Int8, C::Int16, C::Int64, C::StorageBuffer16BitAccess,
         C::StorageBuffer8BitAccess, C::GroupNonUniform, C::GroupNonUniformArithmetic},
        {E::SPV_KHR_storage_buffer_storage_class, E::SPV_KHR_16bit_storage,
         E::SPV_KHR_8bit_storage},
        context);
    return spirv::TargetEnvAttr::get(triple, spirv::getDefaultResourceLimits(context),
                                     spirv::ClientAPI::Vulkan);
  }
};

} // namespace
} // namespace gemc
