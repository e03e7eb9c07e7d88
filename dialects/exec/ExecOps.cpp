//===- ExecOps.cpp - Verifiers of the exec dialect --------------------------===//
//
// The verifiers check what the kernel generators rely on and cannot see for themselves: that
// a weight's memref matches its format, that only dimension 0 of a buffer varies, and that the
// operands of a step agree in shape.
//
//===----------------------------------------------------------------------===//

#include "dialects/exec/ExecOps.h"

#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/Math/IR/Math.h>
#include <llvm/ADT/SetVector.h>
#include <mlir/IR/Builders.h>
#include <mlir/IR/OpImplementation.h>

using namespace mlir;

namespace gemc::exec {
namespace {

ArrayRef<int64_t> shapeOf(Value value) { return cast<ShapedType>(value.getType()).getShape(); }

bool onlyFirstDimDynamic(ArrayRef<int64_t> shape) {
  for (size_t i = 1; i < shape.size(); ++i)
    if (ShapedType::isDynamic(shape[i]))
      return false;
  return true;
}

} // namespace

Operation *rootBuffer(Value value) {
  while (Operation *op = value.getDefiningOp()) {
    if (isa<WeightOp, KvCacheOp, ScratchOp, TokenIdsOp, LogitsOp>(op))
      return op;
    if (auto view = dyn_cast<ViewLikeOpInterface>(op))
      value = view.getViewSource();
    else
      return nullptr;
  }
  return nullptr;
}

SmallVector<Operation *> dispatchBindings(DispatchOp dispatch) {
  llvm::SetVector<Operation *> buffers;
  dispatch.walk([&](Operation *op) {
    for (Value operand : op->getOperands())
      if (Operation *buffer = rootBuffer(operand))
        buffers.insert(buffer);
  });
  return SmallVector<Operation *>(buffers.begin(), buffers.end());
}

WeightFormat WeightOp::weightFormat() { return *parseWeightFormat(getFormat().str()); }

int64_t WeightOp::rows() {
  int64_t rows = 1;
  for (int64_t dim : getType().getShape().drop_back())
    rows *= dim;
  return rows;
}

uint64_t WeightOp::bytesPerRow() { return rowBytes(weightFormat(), getColumns()); }

uint64_t WeightOp::bytes() { return uint64_t(rows()) * bytesPerRow(); }

int64_t WeightOp::rowsPerBinding(uint64_t maxBytes) {
  if (maxBytes == 0 || bytes() <= maxBytes)
    return rows();
  return std::max<int64_t>(int64_t(maxBytes / bytesPerRow()) / 64 * 64, 64);
}

LogicalResult WeightOp::verify() {
  std::optional<WeightFormat> format = parseWeightFormat(getFormat().str());
  if (!format)
    return emitOpError("unknown weight format '") << getFormat() << "'";
  MemRefType type = getType();
  if (type.getRank() == 0)
    return emitOpError("needs a rank >= 1 memref");
  Type element = type.getElementType();
  int64_t last = type.getShape().back();
  if (isFloatFormat(*format)) {
    bool matches = (*format == WeightFormat::F32 && element.isF32()) ||
                   (*format == WeightFormat::BF16 && element.isBF16()) ||
                   (*format == WeightFormat::F16 && element.isF16());
    if (!matches || last != getColumns())
      return emitOpError("a ") << getFormat() << " weight of " << getColumns()
                               << " columns must be a memref of that element type and row length";
    return success();
  }
  if (!element.isInteger(8) || uint64_t(last) != rowBytes(*format, getColumns()))
    return emitOpError("a ") << getFormat() << " weight of " << getColumns()
                             << " columns must be rows of " << rowBytes(*format, getColumns())
                             << " bytes (i8)";
  if (std::optional<int64_t> tile = getTileRows()) {
    int64_t rows = type.getRank() > 1 ? type.getShape()[type.getRank() - 2] : 1;
    if (!canTileRows(*format, getColumns()) || *tile < 2 || *tile % 2 || rows % *tile)
      return emitOpError("cannot store rows of ")
             << getFormat() << " x " << getColumns() << " in tiles of " << *tile
             << " rows (q8_0 or q4_0 rows of whole blocks, an even tile that divides the "
             << rows << " rows of each matrix)";
  }
  return success();
}

int64_t KvCacheOp::rowBytes() {
  ArrayRef<int64_t> shape = getType().getShape();
  return shape[1] * shape[2] * int64_t(sizeof(float));
}

LogicalResult KvCacheOp::verify() {
  ArrayRef<int64_t> shape = getType().getShape();
  if (!ShapedType::isDynamic(shape[0]) || !onlyFirstDimDynamic(shape))
    return emitOpError("must be memref<?xHxDxf32>: the capacity varies, heads and dim do not");
  if (getRingCapacity() < 0)
    return emitOpError("ring_capacity must be >= 0");
  return success();
}

uint64_t ScratchOp::bytes(int64_t maxChunk) {
  uint64_t elements = 1;
  for (int64_t dim : getType().getShape())
    elements *= uint64_t(ShapedType::isDynamic(dim) ? maxChunk : dim);
  return elements * getType().getElementTypeBitWidth() / 8;
}

LogicalResult ScratchOp::verify() {
  if (!onlyFirstDimDynamic(getType().getShape()))
    return emitOpError("only dimension 0 (the tokens) may be dynamic");
  return success();
}

LogicalResult LinearOp::verify() {
  auto out = cast<MemRefType>(getOut().getType());
  auto w = cast<MemRefType>(getW().getType());
  if (getExperts()) {
    if (out.getRank() != 3 || w.getRank() != 3)
      return emitOpError("with experts, out must be [T, k, N] and w [E, rows, K]");
    if (shapeOf(getExperts())[1] != out.getShape()[1])
      return emitOpError("experts and out must have the same k");
  }
  if (getFirstRow() < 0)
    return emitOpError("first_row must be >= 0");
  auto weight = dyn_cast_or_null<WeightOp>(rootBuffer(getW()));
  Type element = cast<MemRefType>(getX().getType()).getElementType();
  if (!weight || element.isF32())
    return success();
  bool int8 = element.isInteger(8);
  ActivationFormat format = int8 ? ActivationFormat::Int8 : ActivationFormat::BF16;
  if (!roundsActivationsFor(format, weight.weightFormat()))
    return emitOpError() << activationFormatName(format) << " activations (exec.quantize_rows) "
                         << "need " << (int8 ? "a quantized" : "a bf16") << " w";
  int64_t rowSize = int8 ? activationRowBytes(weight.getColumns()) : weight.getColumns();
  if (shapeOf(getX()).back() != rowSize)
    return emitOpError() << activationFormatName(format) << " activations of rows of "
                         << weight.getColumns() << " values must have " << rowSize
                         << " elements per row";
  return success();
}

int64_t QuantizeRowsOp::columns() {
  int64_t columns = 1;
  for (int64_t dim : shapeOf(getX()).drop_front(shapeOf(getOut()).size() - 1))
    columns *= dim;
  return columns;
}

LogicalResult QuantizeRowsOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getX()), out = shapeOf(getOut());
  if (!cast<MemRefType>(getX().getType()).getElementType().isF32())
    return emitOpError("x must be f32");
  if (out.size() < 2 || out.size() > x.size() || !onlyFirstDimDynamic(out))
    return emitOpError("out must be [T, bytes] or [T, k, bytes] over x's leading dimensions");
  for (size_t d = 0; d + 1 < out.size(); ++d)
    if (out[d] != x[d])
      return emitOpError("out and x must share their leading dimensions");
  bool int8 = cast<MemRefType>(getOut().getType()).getElementType().isInteger(8);
  int64_t rowSize = int8 ? activationRowBytes(columns()) : columns();
  if (out.back() != rowSize)
    return emitOpError("rows of ") << columns() << " values take " << rowSize
                                   << (int8 ? " bytes" : " bf16 values") << ", not "
                                   << out.back();
  return success();
}

LogicalResult ElementwiseOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size() + getScalars().size())
    return emitOpError("body must take one f32 per input and per scalar");
  for (BlockArgument argument : body.getArguments())
    if (!argument.getType().isF32())
      return emitOpError("body arguments must be f32");
  for (Value input : getInputs())
    if (shapeOf(input) != shapeOf(getOut()))
      return emitOpError("inputs must have the shape of out");
  for (Value scalar : getScalars())
    if (cast<MemRefType>(scalar.getType()).getNumElements() != 1)
      return emitOpError("scalars must be one-element buffers");
  for (Operation &op : body.without_terminator())
    if (!isa<arith::ArithDialect, math::MathDialect>(op.getDialect()))
      return emitOpError("body may only hold arith and math ops, found ") << op.getName();
  return success();
}

LogicalResult RopeOp::verify() {
  int64_t dim = shapeOf(getHeads())[2];
  if (dim % 2 || getRotated() < 0 || 2 * getRotated() > dim)
    return emitOpError("rotated must be in [0, head dim / 2] with an even head dim");
  return success();
}

LogicalResult StoreKvOp::verify() {
  for (Value operand : {getValues(), getCacheK(), getCacheV()})
    if (shapeOf(operand).drop_front() != shapeOf(getKeys()).drop_front())
      return emitOpError("keys, values and both caches must have the same heads and head dim");
  return success();
}

LogicalResult CombineExpertsOp::verify() {
  ArrayRef<int64_t> experts = shapeOf(getExpertOut());
  if (shapeOf(getWeights())[1] != experts[1] || shapeOf(getOut())[1] != experts[2])
    return emitOpError("expert_out [T, k, N] needs weights [T, k] and out [T, N]");
  return success();
}

LogicalResult AttendOp::verify() {
  int64_t heads = shapeOf(getQueries())[1], kvHeads = shapeOf(getCacheK())[1];
  if (kvHeads == 0 || heads % kvHeads)
    return emitOpError("query heads must be a multiple of the cache's kv heads");
  if (shapeOf(getOut()) != shapeOf(getQueries()))
    return emitOpError("out must have the shape of queries");
  return success();
}

LogicalResult RouteOp::verify() {
  if (shapeOf(getChosen()) != shapeOf(getWeights()))
    return emitOpError("chosen and weights must have the same shape");
  return success();
}

} // namespace gemc::exec

#define GET_OP_CLASSES
#include "dialects/exec/ExecOps.cpp.inc"
