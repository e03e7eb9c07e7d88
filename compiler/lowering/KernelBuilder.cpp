//===- KernelBuilder.cpp - Loops and vector ops of gemc's CPU kernels -------===//

#include "compiler/lowering/KernelBuilder.h"

#include "dialects/gemma/GemmaOps.h"

#include <llvm/ADT/StringSwitch.h>
#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/LLVMIR/LLVMDialect.h>
#include <mlir/Dialect/Math/IR/Math.h>
#include <mlir/Dialect/SCF/IR/SCF.h>
#include <mlir/Dialect/Vector/IR/VectorOps.h>

#include <cmath>

using namespace mlir;

namespace gemc {

std::optional<IntegerDot> parseIntegerDot(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<IntegerDot>>(name)
      .Case("none", IntegerDot::None)
      .Case("vnni", IntegerDot::Vnni)
      .Case("maddubs", IntegerDot::Maddubs)
      .Case("sdot", IntegerDot::Sdot)
      .Default(std::nullopt);
}

std::optional<Bf16Dot> parseBf16Dot(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<Bf16Dot>>(name)
      .Case("none", Bf16Dot::None)
      .Case("decode", Bf16Dot::Decode)
      .Case("all", Bf16Dot::All)
      .Default(std::nullopt);
}

Value KernelBuilder::index(int64_t value) { return arith::ConstantIndexOp::create(b_, value); }

Value KernelBuilder::f32(double value) {
  return arith::ConstantOp::create(b_, b_.getF32FloatAttr(float(value)));
}

Value KernelBuilder::splat(Value value, Type type) {
  if (!isa<VectorType>(type))
    return value;
  return vector::BroadcastOp::create(b_, type, value);
}

void KernelBuilder::ifElse(Value condition, function_ref<void()> thenBody,
                           function_ref<void()> elseBody) {
  auto ifOp = scf::IfOp::create(b_, condition, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  thenBody();
  b_.setInsertionPoint(ifOp.elseBlock()->getTerminator());
  elseBody();
}

void KernelBuilder::loop(Value lower, Value upper, int64_t step,
                         function_ref<void(Value)> body) {
  auto forOp = scf::ForOp::create(b_, lower, upper, index(step));
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPoint(forOp.getBody()->getTerminator());
  body(forOp.getInductionVar());
}

SmallVector<Value>
KernelBuilder::loopCarrying(Value lower, Value upper, int64_t step, ValueRange initial,
                            function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto forOp = scf::ForOp::create(b_, lower, upper, index(step), initial);
  if (initial.empty()) // the builder gave the loop its terminator already
    forOp.getBody()->getTerminator()->erase();
  {
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPointToStart(forOp.getBody());
    scf::YieldOp::create(b_, body(forOp.getInductionVar(), forOp.getRegionIterArgs()));
  }
  return SmallVector<Value>(forOp.getResults());
}

void KernelBuilder::chunks(int64_t count, function_ref<void(Value, VectorType)> body) {
  int64_t main = count / vectorWidth_ * vectorWidth_;
  if (main > 0)
    loop(index(0), index(main), vectorWidth_, [&](Value i) {
      body(i, VectorType::get({vectorWidth_}, b_.getF32Type()));
    });
  if (main < count)
    loop(index(main), index(count), 1,
         [&](Value i) { body(i, VectorType::get({1}, b_.getF32Type())); });
}

Value KernelBuilder::load(Value memref, ValueRange prefix, Value i, VectorType type) {
  Type element = cast<MemRefType>(memref.getType()).getElementType();
  SmallVector<Value> indices(prefix);
  indices.push_back(i);
  Value loaded = vector::LoadOp::create(b_, type.clone(element), memref, indices);
  return element.isF32() ? loaded : arith::ExtFOp::create(b_, type, loaded).getResult();
}

void KernelBuilder::store(Value vector, Value memref, ValueRange prefix, Value i) {
  SmallVector<Value> indices(prefix);
  indices.push_back(i);
  vector::StoreOp::create(b_, vector, memref, indices);
}

bool KernelBuilder::isInt8(Value memref) {
  return cast<MemRefType>(memref.getType()).getElementType().isInteger(8);
}

/// Where the blocks' corrections and values of the rows of int8 activations `rows` start.
static int64_t activationCorrectionsOffset(Value rows) {
  return activationCorrectionsOffset(cast<MemRefType>(rows.getType()).getShape().back());
}
static int64_t activationValuesOffset(Value rows) {
  return activationValuesOffset(cast<MemRefType>(rows.getType()).getShape().back());
}

Value KernelBuilder::loadActivationScale(Value rows, ValueRange prefix, Value block) {
  Value bytes = loadBytes(rows, prefix, arith::MulIOp::create(b_, block, index(4)), 4);
  return vector::ExtractOp::create(
      b_, vector::BitCastOp::create(b_, VectorType::get({1}, b_.getF32Type()), bytes),
      ArrayRef<int64_t>{0});
}

Value KernelBuilder::loadActivations(Value rows, ValueRange prefix, Value i, VectorType type) {
  Value block = arith::DivUIOp::create(b_, i, index(kQuantBlock));
  Value scale = loadActivationScale(rows, prefix, block);
  Value q = loadBytes(rows, prefix,
                      arith::AddIOp::create(b_, i, index(activationValuesOffset(rows))),
                      type.getNumElements());
  return arith::MulFOp::create(b_, arith::SIToFPOp::create(b_, type, q), splat(scale, type));
}

void KernelBuilder::quantizeRows(Value x, Value out, int64_t columns) {
  int64_t valuesOffset = activationValuesOffset(out);
  auto quantizeBlock = [&](Value r, Value block, int64_t length) {
    Value start = arith::MulIOp::create(b_, block, index(kQuantBlock));
    SmallVector<std::pair<Value, Value>> chunks; // (column, values)
    Value amax = f32(0);
    for (int64_t offset = 0; offset < length;) {
      int64_t width = offset + vectorWidth_ <= length ? vectorWidth_ : 1;
      Value column = arith::AddIOp::create(b_, start, index(offset));
      Value values = load(x, {r}, column, VectorType::get({width}, b_.getF32Type()));
      chunks.push_back({column, values});
      amax = arith::MaximumFOp::create(
          b_, amax,
          vector::ReductionOp::create(b_, vector::CombiningKind::MAXIMUMF,
                                      math::AbsFOp::create(b_, values)));
      offset += width;
    }
    Value d = arith::DivFOp::create(b_, amax, f32(127));
    Value zero = arith::CmpFOp::create(b_, arith::CmpFPredicate::OEQ, d, f32(0));
    Value inverse =
        arith::SelectOp::create(b_, zero, f32(0), arith::DivFOp::create(b_, f32(1), d));
    Value dBytes = vector::BitCastOp::create(b_, VectorType::get({4}, b_.getI8Type()),
                                             splat(d, VectorType::get({1}, b_.getF32Type())));
    store(dBytes, out, {r}, arith::MulIOp::create(b_, block, index(4)));
    for (auto [column, values] : chunks) {
      auto type = cast<VectorType>(values.getType());
      Value scaled = arith::MulFOp::create(b_, values, splat(inverse, type));
      Value q = arith::FPToSIOp::create(b_, type.clone(b_.getI8Type()),
                                        math::RoundEvenOp::create(b_, scaled));
      store(q, out, {r}, arith::AddIOp::create(b_, column, index(valuesOffset)));
    }
    for (int64_t pad = length; pad < kQuantBlock; ++pad) // the short last block's zeros
      memref::StoreOp::create(
          b_, arith::ConstantOp::create(b_, b_.getI8IntegerAttr(0)), out,
          ValueRange{r, arith::AddIOp::create(b_, start, index(valuesOffset + pad))});
    storeCorrections(out, r, block);
  };
  auto [begin, end] = share(rows(x));
  loop(begin, end, 1, [&](Value r) {
    loop(columns / kQuantBlock, [&](Value block) { quantizeBlock(r, block, kQuantBlock); });
    if (int64_t tail = columns % kQuantBlock)
      quantizeBlock(r, index(columns / kQuantBlock), tail);
  });
}

Value KernelBuilder::correctionsByte(Value rows, Value block) {
  return arith::AddIOp::create(
      b_,
      arith::MulIOp::create(b_, block, index(int64_t(sizeof(int32_t)) * kActivationCorrections)),
      index(activationCorrectionsOffset(rows)));
}

void KernelBuilder::storeCorrections(Value out, Value r, Value block) {
  // From the block's stored values: lane j of the two halves' sum adds value j and 16 + j,
  // and lanes 4k..4k+3 add up to c_k / -8.
  Value start = arith::AddIOp::create(b_, arith::MulIOp::create(b_, block, index(kQuantBlock)),
                                      index(activationValuesOffset(out)));
  auto wide = VectorType::get({16}, b_.getI32Type());
  auto half = [&](int64_t first) {
    return arith::ExtSIOp::create(
        b_, wide, loadBytes(out, {r}, arith::AddIOp::create(b_, start, index(first)), 16));
  };
  Value lanes = arith::AddIOp::create(b_, half(0), half(16));
  SmallVector<Value> sums;
  for (int64_t k = 0; k < kActivationCorrections; ++k)
    sums.push_back(vector::ReductionOp::create(
        b_, vector::CombiningKind::ADD,
        vector::ExtractStridedSliceOp::create(b_, lanes, ArrayRef<int64_t>{4 * k},
                                              ArrayRef<int64_t>{4}, ArrayRef<int64_t>{1})));
  auto sumType = VectorType::get({kActivationCorrections}, b_.getI32Type());
  Value c = arith::MulIOp::create(
      b_, vector::FromElementsOp::create(b_, sumType, sums),
      arith::ConstantOp::create(b_, DenseElementsAttr::get(sumType, int32_t(-8))));
  store(vector::BitCastOp::create(b_, VectorType::get({16}, b_.getI8Type()), c), out, {r},
        correctionsByte(out, block));
}

void KernelBuilder::roundRowsToBf16(Value x, Value out, int64_t columns) {
  auto [begin, end] = share(rows(x));
  loop(begin, end, 1, [&](Value r) {
    chunks(columns, [&](Value i, VectorType type) {
      Value bits = roundToBf16Bits(load(x, {r}, i, type));
      store(arith::BitcastOp::create(b_, type.clone(b_.getBF16Type()), bits), out, {r}, i);
    });
  });
}

Value KernelBuilder::roundToBf16Bits(Value values) {
  // bits + 0x7FFF + (bit 16 of bits), high half: to nearest, ties to even.
  Type f32Type = values.getType(), i32Type = b_.getI32Type(), i16Type = b_.getI16Type();
  if (auto vector = dyn_cast<VectorType>(f32Type)) {
    i32Type = vector.clone(i32Type);
    i16Type = vector.clone(i16Type);
  }
  auto constant = [&](int64_t value) {
    return splat(arith::ConstantOp::create(b_, b_.getI32IntegerAttr(int32_t(value))), i32Type);
  };
  Value bits = arith::BitcastOp::create(b_, i32Type, values);
  Value odd = arith::AndIOp::create(b_, arith::ShRUIOp::create(b_, bits, constant(16)),
                                    constant(1));
  Value rounded = arith::AddIOp::create(b_, bits, arith::AddIOp::create(b_, constant(0x7FFF), odd));
  return arith::TruncIOp::create(b_, i16Type, arith::ShRUIOp::create(b_, rounded, constant(16)));
}

WeightRows KernelBuilder::plainRows(Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  return {memref, gemma::floatFormatOf(type.getElementType()), type.getShape().back()};
}

Value KernelBuilder::loadBytes(Value memref, ValueRange row, Value byte, int64_t count) {
  SmallVector<Value> indices(row);
  indices.push_back(byte);
  return vector::LoadOp::create(b_, VectorType::get({count}, b_.getI8Type()), memref, indices);
}

KernelBuilder::BlockScales KernelBuilder::loadScales(const WeightRows &w, ValueRange row,
                                                     Value block) {
  auto scalar = [&](Value bytes, Type type, int64_t lanes, int64_t lane) {
    Value cast = vector::BitCastOp::create(b_, VectorType::get({lanes}, type), bytes);
    Value value = vector::ExtractOp::create(b_, cast, ArrayRef<int64_t>{lane});
    return type.isF32() ? value : arith::ExtFOp::create(b_, b_.getF32Type(), value).getResult();
  };
  int64_t scaleBytes = rowLayout(w.format, w.columns).scaleBytes;
  Value bytes;
  if (w.tileRows) {
    auto [tile, position] = rowOfTile(w, row);
    Value byte = arith::AddIOp::create(
        b_, arith::MulIOp::create(b_, block, index(tileBlockBytes(w))),
        arith::MulIOp::create(b_, position, index(scaleBytes)));
    bytes = loadBytes(w.data, tile, byte, scaleBytes);
  } else {
    bytes = loadBytes(w.data, row, arith::MulIOp::create(b_, block, index(scaleBytes)),
                      scaleBytes);
  }
  switch (w.format) {
  case WeightFormat::Q8_Ch: return {scalar(bytes, b_.getF32Type(), 1, 0), Value()};
  case WeightFormat::Q4_1:
    return {scalar(bytes, b_.getF16Type(), 2, 0), scalar(bytes, b_.getF16Type(), 2, 1)};
  default: return {scalar(bytes, b_.getF16Type(), 1, 0), Value()}; // q8_0, q4_0
  }
}

Value KernelBuilder::decodeChunk(const WeightRows &w, ValueRange row, Value block, Value column,
                                 int64_t offset, int64_t width, const BlockScales &scales) {
  auto type = VectorType::get({width}, b_.getF32Type());
  if (isFloatFormat(w.format))
    return load(w.data, row, column, type);
  RowLayout layout = rowLayout(w.format, w.columns);
  Value values;
  if (w.tileRows) {
    // Value `offset` of the block: q8_0's byte offset; q4_0's byte offset % 16.
    Value bytes = loadTiledValues(w, row, block, offset % layout.blockValueBytes, width);
    values = w.format == WeightFormat::Q8_0
                 ? arith::SIToFPOp::create(b_, type, bytes).getResult()
                 : nibblesToFloat(w.format, bytes, offset, type);
  } else if (w.format == WeightFormat::Q8_0 || w.format == WeightFormat::Q8_Ch) {
    Value bytes = loadBytes(
        w.data, row, arith::AddIOp::create(b_, column, index(layout.valuesOffset)), width);
    values = arith::SIToFPOp::create(b_, type, bytes);
  } else { // 4-bit: value j of a block in byte j % 16, low nibble for j < 16
    Value byte = arith::AddIOp::create(
        b_, arith::MulIOp::create(b_, block, index(layout.blockValueBytes)),
        index(layout.valuesOffset + offset % layout.blockValueBytes));
    values = nibblesToFloat(w.format, loadBytes(w.data, row, byte, width), offset, type);
  }
  Value decoded = arith::MulFOp::create(b_, values, splat(scales.scale, type));
  if (scales.minimum)
    decoded = arith::AddFOp::create(b_, decoded, splat(scales.minimum, type));
  return decoded;
}

Value KernelBuilder::nibblesToFloat(WeightFormat format, Value bytes, int64_t offset,
                                    VectorType type) {
  auto bytesType = cast<VectorType>(bytes.getType());
  auto constant = [&](int64_t v) {
    return arith::ConstantOp::create(
        b_, DenseElementsAttr::get(bytesType, b_.getIntegerAttr(b_.getI8Type(), v)));
  };
  Value nibbles = offset < kQuantBlock / 2
                      ? arith::AndIOp::create(b_, bytes, constant(0xF)).getResult()
                      : arith::ShRUIOp::create(b_, bytes, constant(4)).getResult();
  if (format == WeightFormat::Q4_0)
    return arith::SIToFPOp::create(b_, type, arith::SubIOp::create(b_, nibbles, constant(8)));
  return arith::UIToFPOp::create(b_, type, nibbles);
}

std::pair<SmallVector<Value>, Value> KernelBuilder::rowOfTile(const WeightRows &w,
                                                              ValueRange row) {
  SmallVector<Value> tile(row);
  Value position = arith::RemUIOp::create(b_, tile.back(), index(w.tileRows));
  tile.back() = arith::DivUIOp::create(b_, tile.back(), index(w.tileRows));
  return {tile, position};
}

Value KernelBuilder::loadTiledValues(const WeightRows &w, ValueRange row, Value block,
                                     int64_t byte, int64_t count) {
  // Piece (byte / 16) of the row sits at piece ((half * pieces + byte / 16) * halfRows +
  // row % halfRows) of the block's values (WeightFormat.h's tiledValueByte).
  auto [tile, position] = rowOfTile(w, row);
  int64_t halfRows = w.tileRows / 2;
  int64_t pieces = rowLayout(w.format, w.columns).blockValueBytes / 16;
  Value half = arith::DivUIOp::create(b_, position, index(halfRows));
  Value piece = arith::AddIOp::create(
      b_,
      arith::MulIOp::create(
          b_, arith::AddIOp::create(b_, arith::MulIOp::create(b_, half, index(pieces)),
                                    index(byte / 16)),
          index(halfRows)),
      arith::RemUIOp::create(b_, position, index(halfRows)));
  Value start = arith::AddIOp::create(
      b_, arith::MulIOp::create(b_, block, index(tileBlockBytes(w))),
      index(tiledScaleByte(w.format, w.columns, w.tileRows, w.tileRows, 0) + byte % 16));
  return loadBytes(w.data, tile,
                   arith::AddIOp::create(b_, start, arith::MulIOp::create(b_, piece, index(16))),
                   count);
}

SmallVector<Value> KernelBuilder::walkRows(const WeightRows &w,
                                           ArrayRef<SmallVector<Value>> rows,
                                           const BlockRange &blocks, ValueRange initial,
                                           ChunkBody body) {
  assert(kQuantBlock % vectorWidth_ == 0 && "a block is whole vectors");
  SmallVector<BlockScales> rowScales(rows.size());
  if (w.format == WeightFormat::Q8_Ch)
    for (auto [scales, row] : llvm::zip(rowScales, rows))
      scales = loadScales(w, row, index(0));
  bool blockScaled = !isFloatFormat(w.format) && w.format != WeightFormat::Q8_Ch;
  auto visitBlock = [&](Value block, int64_t length, SmallVectorImpl<Value> &state) {
    SmallVector<BlockScales> scales(rowScales);
    if (blockScaled)
      for (auto [blockScales, row] : llvm::zip(scales, rows))
        blockScales = loadScales(w, row, block);
    Value start = arith::MulIOp::create(b_, block, index(kQuantBlock));
    for (int64_t offset = 0; offset < length;) {
      int64_t width = offset + vectorWidth_ <= length ? vectorWidth_ : 1;
      RowChunk chunk{arith::AddIOp::create(b_, start, index(offset)), offset, {}};
      for (auto [row, blockScales] : llvm::zip(rows, scales))
        chunk.values.push_back(
            decodeChunk(w, row, block, chunk.column, offset, width, blockScales));
      body(chunk, state);
      offset += width;
    }
  };
  SmallVector<Value> state = loopCarrying(
      blocks.firstBlock, blocks.endBlock, 1, initial, [&](Value block, ValueRange carried) {
        SmallVector<Value> next(carried);
        if (isFloatFormat(w.format))
          prefetchRowsAhead(w, rows, block);
        visitBlock(block, kQuantBlock, next);
        return next;
      });
  if (int64_t tail = w.columns % kQuantBlock; blocks.rowEnd && tail > 0)
    visitBlock(blocks.endBlock, tail, state);
  return state;
}

SmallVector<Value> KernelBuilder::walkRow(const WeightRows &w, ValueRange row,
                                          ValueRange initial, ChunkBody body) {
  return walkRows(w, {SmallVector<Value>(row)}, wholeRow(w), initial, body);
}

SmallVector<Value> KernelBuilder::dots(Value a, ArrayRef<SmallVector<Value>> aPrefixes,
                                       const WeightRows &b, ArrayRef<SmallVector<Value>> bRows,
                                       const BlockRange &blocks, int64_t chains) {
  // Accumulators: `chains` vector<vectorWidth> ones per pair for whole chunks (chunk i of a
  // block adds to chain i % chains), then vector<1> ones if the columns end in a tail.
  size_t count = aPrefixes.size() * bRows.size();
  bool tail = blocks.rowEnd && b.columns % vectorWidth_ != 0;
  size_t wide = count * size_t(chains);
  SmallVector<Value> zeros(wide, splat(f32(0), VectorType::get({vectorWidth_}, b_.getF32Type())));
  if (tail)
    zeros.append(count, splat(f32(0), VectorType::get({1}, b_.getF32Type())));
  SmallVector<Value> sums = walkRows(
      b, bRows, blocks, zeros, [&](const RowChunk &chunk, SmallVectorImpl<Value> &acc) {
        auto type = cast<VectorType>(chunk.values[0].getType());
        bool whole = type.getNumElements() == vectorWidth_;
        SmallVector<Value> loaded;
        for (const SmallVector<Value> &prefix : aPrefixes)
          loaded.push_back(isInt8(a) ? loadActivations(a, prefix, chunk.column, type)
                                     : load(a, prefix, chunk.column, type));
        for (size_t k = 0; k < count; ++k) {
          size_t slot = whole ? k * chains + size_t(chunk.offset / vectorWidth_ % chains)
                              : wide + k;
          acc[slot] = vector::FMAOp::create(b_, loaded[k % aPrefixes.size()],
                                            chunk.values[k / aPrefixes.size()], acc[slot]);
        }
      });
  SmallVector<Value> totals;
  for (size_t k = 0; k < count; ++k) {
    Value vectorSum = sums[k * chains];
    for (size_t c = 1; c < size_t(chains); ++c)
      vectorSum = arith::AddFOp::create(b_, vectorSum, sums[k * chains + c]);
    Value total = vector::ReductionOp::create(b_, vector::CombiningKind::ADD, vectorSum);
    if (tail)
      total = arith::AddFOp::create(
          b_, total, vector::ReductionOp::create(b_, vector::CombiningKind::ADD, sums[wide + k]));
    totals.push_back(total);
  }
  return totals;
}

Value KernelBuilder::dot(Value a, ValueRange aPrefix, Value b, ValueRange bPrefix) {
  WeightRows rows = plainRows(b);
  // A single pair: each chunk position of a block gets its own chain, so consecutive FMAs do
  // not wait for each other.
  return dots(a, {SmallVector<Value>(aPrefix)}, rows, {SmallVector<Value>(bPrefix)},
              wholeRow(rows), kQuantBlock / vectorWidth_)[0];
}

int64_t integerTileRows(WeightFormat format, int64_t columns, int64_t vectorWidth,
                        IntegerDot dot) {
  // Maddubs takes q8_0's products through vpsignb, which AVX-512 lacks.
  bool maddubsQ8 = format == WeightFormat::Q8_0 && dot == IntegerDot::Maddubs && vectorWidth == 16;
  return canTileRows(format, columns) && !maddubsQ8 ? 2 * (vectorWidth / 4) : 0;
}

bool KernelBuilder::integerTiles(Value x, const WeightRows &w) const {
  return isInt8(x) && integerTileRows(w.format, w.columns, vectorWidth_, integerDot_) > 0;
}

SmallVector<Value> KernelBuilder::bf16Dots(Value a, ArrayRef<SmallVector<Value>> aPrefixes,
                                           const WeightRows &w, ArrayRef<SmallVector<Value>> wRows,
                                           Value firstBlock, Value endBlock) {
  auto f32Type = VectorType::get({16}, b_.getF32Type());
  auto pairType = VectorType::get({kQuantBlock}, b_.getBF16Type());
  size_t tokens = aPrefixes.size();
  auto loadBlock = [&](Value memref, ValueRange prefix, Value block) {
    SmallVector<Value> indices(prefix);
    indices.push_back(arith::MulIOp::create(b_, block, index(kQuantBlock)));
    return vector::LoadOp::create(b_, pairType, memref, indices).getResult();
  };
  SmallVector<Value> initial(wRows.size() * tokens, splat(f32(0), f32Type));
  SmallVector<Value> acc = loopCarrying(
      firstBlock, endBlock, 1, initial, [&](Value block, ValueRange carried) {
        SmallVector<Value> next(carried);
        SmallVector<Value> rows;
        for (const SmallVector<Value> &row : wRows)
          rows.push_back(loadBlock(w.data, row, block));
        for (size_t t = 0; t < tokens; ++t) {
          Value x = loadBlock(a, aPrefixes[t], block);
          for (size_t r = 0; r < rows.size(); ++r)
            next[r * tokens + t] = intrinsic(f32Type, "llvm.x86.avx512bf16.dpbf16ps.512",
                                             {next[r * tokens + t], rows[r], x});
        }
        return next;
      });
  SmallVector<Value> totals;
  for (Value sum : acc)
    totals.push_back(vector::ReductionOp::create(b_, vector::CombiningKind::ADD, sum));
  return totals;
}

Value KernelBuilder::intrinsic(Type type, StringRef name, ValueRange args) {
  return LLVM::CallIntrinsicOp::create(b_, type, b_.getStringAttr(name), args).getResult(0);
}

Value KernelBuilder::dot4(Value acc, Value u, Value s) {
  Type accType = acc.getType();
  bool wide = vectorWidth_ == 16;
  switch (integerDot_) {
  case IntegerDot::Vnni:
    return intrinsic(accType,
                     wide ? "llvm.x86.avx512.vpdpbusd.512" : "llvm.x86.avx512.vpdpbusd.256",
                     {acc, u, s});
  case IntegerDot::Maddubs: {
    auto pairs = VectorType::get({2 * vectorWidth_}, b_.getI16Type());
    Value products = intrinsic(pairs, wide ? "llvm.x86.avx512.pmaddubs.w.512"
                                           : "llvm.x86.avx2.pmadd.ub.sw",
                               {u, s});
    Value ones = arith::ConstantOp::create(
        b_, DenseElementsAttr::get(pairs, b_.getIntegerAttr(b_.getI16Type(), 1)));
    Value quads =
        intrinsic(accType, wide ? "llvm.x86.avx512.pmaddw.d.512" : "llvm.x86.avx2.pmadd.wd",
                  {products, ones});
    return arith::AddIOp::create(b_, acc, quads);
  }
  case IntegerDot::Sdot:
    return intrinsic(accType, "llvm.aarch64.neon.sdot.v4i32.v16i8", {acc, u, s});
  case IntegerDot::None: {
    auto wide = VectorType::get({4 * vectorWidth_}, b_.getI32Type());
    Value products = arith::MulIOp::create(b_, arith::ExtSIOp::create(b_, wide, u),
                                           arith::ExtSIOp::create(b_, wide, s));
    for (int64_t k = 0; k < 4; ++k) { // product k of every lane's four
      SmallVector<int64_t> lanes;
      for (int64_t j = 0; j < vectorWidth_; ++j)
        lanes.push_back(4 * j + k);
      acc = arith::AddIOp::create(b_, acc,
                                  vector::ShuffleOp::create(b_, products, products, lanes));
    }
    return acc;
  }
  }
  llvm_unreachable("an IntegerDot kind without a dot product");
}

/// `parts` (vectors of one type) concatenated.
static Value concat(ImplicitLocOpBuilder &b, SmallVector<Value> parts) {
  while (parts.size() > 1) {
    SmallVector<Value> joined;
    for (size_t i = 0; i < parts.size(); i += 2) {
      int64_t n = cast<VectorType>(parts[i].getType()).getNumElements();
      joined.push_back(vector::ShuffleOp::create(b, parts[i], parts[i + 1],
                                                 llvm::to_vector(llvm::seq<int64_t>(0, 2 * n))));
    }
    parts = std::move(joined);
  }
  return parts[0];
}

Value KernelBuilder::loadSideBySide(Value memref, ArrayRef<SmallVector<Value>> rows, Value byte,
                                    int64_t count) {
  SmallVector<Value> parts;
  for (const SmallVector<Value> &row : rows)
    parts.push_back(loadBytes(memref, row, byte, count));
  return concat(b_, parts);
}

Value KernelBuilder::spread(ArrayRef<Value> scalars, int64_t lanes) {
  auto type = VectorType::get({lanes}, b_.getF32Type());
  if (scalars.size() == 1)
    return splat(scalars[0], type);
  Value packed = vector::FromElementsOp::create(
      b_, VectorType::get({int64_t(scalars.size())}, b_.getF32Type()), scalars);
  int64_t run = lanes / int64_t(scalars.size());
  SmallVector<int64_t> mask;
  for (int64_t i = 0; i < lanes; ++i)
    mask.push_back(i / run);
  return vector::ShuffleOp::create(b_, packed, packed, mask);
}

/// How integer tiles multiply a weight format: vpdpbusd and vpmaddubsw take unsigned weights,
/// q4_0's nibbles q (value q - 8) and q8_0's bytes q + 128 (value q), and a correction of
/// -offset * (the sums of the token's bytes), which is the same for every row and so stored
/// with the activations, once per token and block (WeightFormat.h). vpmaddubsw's pairs of q8_0
/// products could saturate i16: there the weight's sign moves onto the activation
/// (|w| x sign(a, w), vpsignb) instead. sdot and the generic products take signed values.
struct KernelBuilder::IntegerScheme {
  bool q4, unsignedWeights, signTrick;
  int64_t offset;
};

KernelBuilder::IntegerScheme KernelBuilder::integerScheme(WeightFormat format) const {
  bool q4 = format == WeightFormat::Q4_0;
  bool unsignedWeights = integerDot_ == IntegerDot::Vnni || integerDot_ == IntegerDot::Maddubs;
  bool signTrick = !q4 && integerDot_ == IntegerDot::Maddubs;
  int64_t offset = !unsignedWeights || signTrick ? 0 : q4 ? 8 : 128;
  return {q4, unsignedWeights, signTrick, offset};
}

Value KernelBuilder::byteSplat(int64_t value) {
  auto type = VectorType::get({4 * vectorWidth_}, b_.getI8Type());
  return arith::ConstantOp::create(
      b_, DenseElementsAttr::get(type, b_.getIntegerAttr(b_.getI8Type(), value)));
}

std::pair<Value, Value> KernelBuilder::weightHalves(const WeightRows &w,
                                                    ArrayRef<SmallVector<Value>> rows,
                                                    ValueRange tile, int64_t group, Value block,
                                                    const IntegerScheme &scheme) {
  // Piece p (16 bytes: q4_0's packed nibbles, q8_0's values 16p..16p+15) of each of the
  // group's rows, side by side: one load from a row tile, one per row otherwise.
  RowLayout layout = rowLayout(w.format, w.columns);
  int64_t groupRows = int64_t(rows.size());
  auto pieces = [&](int64_t p) {
    if (w.tileRows) {
      int64_t first = tiledValueByte(w.format, w.columns, w.tileRows, group * groupRows, 0, 16 * p);
      Value byte = arith::AddIOp::create(
          b_, arith::MulIOp::create(b_, block, index(tileBlockBytes(w))), index(first));
      return loadBytes(w.data, tile, byte, 16 * groupRows);
    }
    Value byte = arith::AddIOp::create(
        b_, arith::MulIOp::create(b_, block, index(layout.blockValueBytes)),
        index(layout.valuesOffset + 16 * p));
    return loadSideBySide(w.data, rows, byte, 16);
  };
  if (scheme.q4) {
    Value packed = pieces(0);
    Value lo = arith::AndIOp::create(b_, packed, byteSplat(0xF));
    Value hi = arith::ShRUIOp::create(b_, packed, byteSplat(4));
    if (scheme.unsignedWeights)
      return {lo, hi};
    return {arith::SubIOp::create(b_, lo, byteSplat(8)),
            arith::SubIOp::create(b_, hi, byteSplat(8))};
  }
  Value lo = pieces(0), hi = pieces(1);
  if (!scheme.offset)
    return {lo, hi};
  return {arith::XOrIOp::create(b_, lo, byteSplat(0x80)),
          arith::XOrIOp::create(b_, hi, byteSplat(0x80))};
}

int64_t KernelBuilder::tileBlockBytes(const WeightRows &w) {
  return tiledScaleByte(w.format, w.columns, w.tileRows, 0, 1);
}

Value KernelBuilder::tileScales(const WeightRows &w, ValueRange tile, Value block) {
  int64_t scaleBytes = rowLayout(w.format, w.columns).scaleBytes;
  Value bytes = loadBytes(w.data, tile, arith::MulIOp::create(b_, block, index(tileBlockBytes(w))),
                          w.tileRows * scaleBytes);
  Value halves =
      vector::BitCastOp::create(b_, VectorType::get({w.tileRows}, b_.getF16Type()), bytes);
  return arith::ExtFOp::create(b_, VectorType::get({w.tileRows}, b_.getF32Type()), halves);
}

void KernelBuilder::prefetchRowsAhead(const WeightRows &w, ArrayRef<SmallVector<Value>> rows,
                                      Value block) {
  // As prefetchTileAhead, for rows of a float format, each its own stream: 1 KiB ahead in the
  // row, clamped to its last column (the next rows of a tile are not the next in memory).
  constexpr int64_t kAhead = 1024, kLine = 64;
  int64_t elementBytes = int64_t(rowBytes(w.format, 1));
  Value start = arith::MulIOp::create(b_, block, index(kQuantBlock));
  for (const SmallVector<Value> &row : rows)
    for (int64_t line = 0; line < kQuantBlock * elementBytes; line += kLine) {
      Value column = arith::MinUIOp::create(
          b_, arith::AddIOp::create(b_, start, index((kAhead + line) / elementBytes)),
          index(w.columns - 1));
      SmallVector<Value> indices(row);
      indices.push_back(column);
      memref::PrefetchOp::create(b_, w.data, indices, /*isWrite=*/false, /*localityHint=*/3,
                                 /*isDataCache=*/true);
    }
}

/// The reassociation of a rank `rank` memref that merges its last two dimensions.
static SmallVector<ReassociationIndices> lastTwoDimsMerged(int64_t rank) {
  SmallVector<ReassociationIndices> groups;
  for (int64_t d = 0; d + 2 < rank; ++d)
    groups.push_back({d});
  groups.push_back({rank - 2, rank - 1});
  return groups;
}

void KernelBuilder::prefetchTileAhead(const WeightRows &w, ValueRange tile, Value block) {
  // A tile is one stream, but decoding reads each only once, from memory: the hardware
  // prefetchers alone left a q4_0 kernel at 70% of the read bandwidth, asking for the lines
  // 1 KiB ahead at 79% (measured). The hint goes through the flat bytes of the matrix, clamped
  // to its last byte, so that past a tile's end it fetches the next tile.
  constexpr int64_t kAhead = 1024, kLine = 64;
  auto type = cast<MemRefType>(w.data.getType());
  int64_t rank = type.getRank(), tileBytes = type.getShape()[rank - 1];
  int64_t matrixBytes = type.getShape()[rank - 2] * tileBytes;
  SmallVector<ReassociationIndices> groups = lastTwoDimsMerged(rank);
  Value flat = memref::CollapseShapeOp::create(b_, w.data, groups);
  Value start = arith::AddIOp::create(
      b_, arith::MulIOp::create(b_, tile.back(), index(tileBytes)),
      arith::MulIOp::create(b_, block, index(tileBlockBytes(w))));
  for (int64_t line = 0; line < tileBlockBytes(w); line += kLine) {
    Value byte = arith::MinUIOp::create(
        b_, arith::AddIOp::create(b_, start, index(kAhead + line)), index(matrixBytes - 1));
    SmallVector<Value> indices(tile.drop_back());
    indices.push_back(byte);
    memref::PrefetchOp::create(b_, flat, indices, /*isWrite=*/false, /*localityHint=*/3,
                               /*isDataCache=*/true);
  }
}

Value KernelBuilder::tileView(Value memref, int64_t tileRows) {
  auto type = cast<MemRefType>(memref.getType());
  int64_t rank = type.getRank(), rows = type.getShape()[rank - 2],
          bytes = type.getShape()[rank - 1];
  SmallVector<ReassociationIndices> groups = lastTwoDimsMerged(rank);
  Value flat = memref::CollapseShapeOp::create(b_, memref, groups);
  SmallVector<int64_t> shape(type.getShape().drop_back(2));
  shape.append({rows / tileRows, tileRows * bytes});
  return memref::ExpandShapeOp::create(b_, MemRefType::get(shape, type.getElementType()), flat,
                                       groups);
}

Value KernelBuilder::activationHalf(Value a, ValueRange prefix, Value block, int64_t first) {
  Value start =
      arith::AddIOp::create(b_, arith::MulIOp::create(b_, block, index(kQuantBlock)),
                            index(activationValuesOffset(a) + first));
  return concat(b_, SmallVector<Value>(vectorWidth_ / 4, loadBytes(a, prefix, start, 16)));
}

Value KernelBuilder::offsetCorrection(Value a, ValueRange prefix, Value block, int64_t offset) {
  // The block's four corrections (c_k = -8 * ...) in the four lanes of each row of a group,
  // times offset / 8: one load and at most a shift per token and block.
  Value c =
      vector::BitCastOp::create(b_, VectorType::get({kActivationCorrections}, b_.getI32Type()),
                                loadBytes(a, prefix, correctionsByte(a, block), 16));
  Value lanes = concat(b_, SmallVector<Value>(vectorWidth_ / 4, c));
  if (offset == 8)
    return lanes;
  assert(offset == 128 && "offsets are q4_0's 8 and q8_0's 128");
  auto type = cast<VectorType>(lanes.getType());
  return arith::ShLIOp::create(
      b_, lanes, arith::ConstantOp::create(b_, DenseElementsAttr::get(type, int32_t(4))));
}

Value KernelBuilder::halvesDot(Value acc, std::pair<Value, Value> w, std::pair<Value, Value> a,
                               const IntegerScheme &scheme) {
  if (!scheme.signTrick)
    return dot4(dot4(acc, w.first, a.first), w.second, a.second);
  auto signed_ = [&](Value w, Value x) { // |w| and x with w's sign
    return std::pair<Value, Value>{math::AbsIOp::create(b_, w),
                                   intrinsic(x.getType(), "llvm.x86.avx2.psign.b", {x, w})};
  };
  auto [wLo, aLo] = signed_(w.first, a.first);
  auto [wHi, aHi] = signed_(w.second, a.second);
  return dot4(dot4(acc, wLo, aLo), wHi, aHi);
}

SmallVector<Value> KernelBuilder::integerDots(Value a, ArrayRef<SmallVector<Value>> aPrefixes,
                                              const WeightRows &w,
                                              ArrayRef<SmallVector<Value>> wRows,
                                              Value firstBlock, Value endBlock) {
  // A block of 32 values is two halves of 16 bytes, values 0-15 and 16-31 (a 4-bit block's
  // low and high nibbles). A group's vector holds the same half of each of its rows, each
  // token's half repeated once per row, so lane j sums four products of row j / 4.
  int64_t groupRows = vectorWidth_ / 4, groups = int64_t(wRows.size()) / groupRows;
  int64_t tokens = int64_t(aPrefixes.size());
  // Rows stored in tiles: wRows are one tile, a row of w.data's tile view.
  SmallVector<Value> tile(wRows[0]);
  if (w.tileRows)
    tile.back() = arith::DivUIOp::create(b_, tile.back(), index(w.tileRows));
  IntegerScheme scheme = integerScheme(w.format);
  auto f32Type = VectorType::get({vectorWidth_}, b_.getF32Type());
  Value zeros = arith::ConstantOp::create(
      b_, DenseElementsAttr::get(VectorType::get({vectorWidth_}, b_.getI32Type()),
                                 b_.getIntegerAttr(b_.getI32Type(), 0)));
  SmallVector<Value> initial(groups * tokens, splat(f32(0), f32Type));
  SmallVector<Value> acc = loopCarrying(
      firstBlock, endBlock, 1, initial, [&](Value block, ValueRange carried) {
        SmallVector<Value> next(carried);
        SmallVector<std::pair<Value, Value>> halves;
        SmallVector<Value> scales; // each row's block scale over its four lanes
        Value tiled;
        if (w.tileRows) {
          prefetchTileAhead(w, tile, block);
          tiled = tileScales(w, tile, block);
        }
        for (int64_t g = 0; g < groups; ++g) {
          ArrayRef<SmallVector<Value>> rows = wRows.slice(g * groupRows, groupRows);
          halves.push_back(weightHalves(w, rows, tile, g, block, scheme));
          SmallVector<int64_t> lanes; // row r of the group over lanes 4r..4r+3
          for (int64_t j = 0; j < vectorWidth_; ++j)
            lanes.push_back(g * groupRows + j / 4);
          if (tiled) {
            scales.push_back(vector::ShuffleOp::create(b_, tiled, tiled, lanes));
            continue;
          }
          SmallVector<Value> rowScales;
          for (const SmallVector<Value> &row : rows)
            rowScales.push_back(loadScales(w, row, block).scale);
          scales.push_back(spread(rowScales, vectorWidth_));
        }
        for (int64_t t = 0; t < tokens; ++t) {
          std::pair<Value, Value> x{activationHalf(a, aPrefixes[t], block, 0),
                                    activationHalf(a, aPrefixes[t], block, 16)};
          Value xScale = splat(loadActivationScale(a, aPrefixes[t], block), f32Type);
          Value init = zeros;
          if (scheme.offset)
            init = offsetCorrection(a, aPrefixes[t], block, scheme.offset);
          for (int64_t g = 0; g < groups; ++g) {
            Value sum = halvesDot(init, halves[g], x, scheme);
            Value scale = arith::MulFOp::create(b_, scales[g], xScale);
            Value &slot = next[g * tokens + t];
            slot =
                vector::FMAOp::create(b_, arith::SIToFPOp::create(b_, f32Type, sum), scale, slot);
          }
        }
        return next;
      });
  // Lanes 4r..4r+3 of a group's accumulator belong to its row r.
  SmallVector<Value> totals(wRows.size() * tokens);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t t = 0; t < tokens; ++t)
      for (int64_t r = 0; r < groupRows; ++r) {
        Value lanes = vector::ExtractStridedSliceOp::create(
            b_, acc[g * tokens + t], ArrayRef<int64_t>{4 * r}, ArrayRef<int64_t>{4},
            ArrayRef<int64_t>{1});
        totals[(g * groupRows + r) * tokens + t] =
            vector::ReductionOp::create(b_, vector::CombiningKind::ADD, lanes);
      }
  return totals;
}

std::pair<Value, Value> KernelBuilder::share(Value count) {
  auto bound = [&](Value w) {
    return arith::DivUIOp::create(b_, arith::MulIOp::create(b_, count, w), workers_);
  };
  return {bound(worker_), bound(arith::AddIOp::create(b_, worker_, index(1)))};
}

KernelBuilder::LinearTiling KernelBuilder::linearTiling(int64_t rowColumns, bool integer) const {
  // Accumulators, weight chunks and one token's chunk must fit the vector registers: AVX-512
  // has 32 of 16 lanes, 4 rows x 6 tokens; AVX2 16 of 8 lanes, 2 x 4. NEON has 32 of 4 lanes,
  // but a block is 8 of its chunks, all unrolled: 2 x 4 keeps its kernels (and their compile
  // time) as small as AVX2's. A pass over more than kPassColumns columns is split into passes
  // of a multiple of 32 columns that divides the row, so that every token's slice of a pass
  // stays in cache while all of this worker's output channels read it.
  constexpr int64_t kPassColumns = 1024;
  // Integer tiles hold two row groups (vectorWidth / 4 rows each) per accumulator row.
  LinearTiling tiling{integer ? 2 * (vectorWidth_ / 4) : vectorWidth_ >= 16 ? 4 : 2,
                      vectorWidth_ >= 16 ? 6 : 4, rowColumns};
  if (rowColumns > kPassColumns)
    for (int64_t columns = kPassColumns; columns >= kQuantBlock; columns -= kQuantBlock)
      if (rowColumns % columns == 0) {
        tiling.columns = columns;
        break;
      }
  return tiling;
}

KernelBuilder::BlockRange KernelBuilder::wholeRow(const WeightRows &w) {
  return {index(0), index(w.columns / kQuantBlock), true};
}

void KernelBuilder::linear(Value x, const WeightRows &w, ValueRange wPrefix, int64_t firstRow,
                           int64_t numRows, Value out, const GatheredTokens *gathered) {
  // With many tokens, passes over the columns outermost, so a pass's slice of x stays in cache
  // while every row of this worker's share reads it; with few (decoding), one pass, so that
  // each weight row streams from memory start to end. Within a pass, tiles of rows x tokens
  // whose dot products are accumulated in registers, each weight chunk decoded once for all
  // tokens of the tile and each token's chunk loaded once for all rows. The first pass stores,
  // later ones add. Every dot product sums in the same order whatever its tile, so results do
  // not depend on how many workers share the rows.
  constexpr int64_t kPassTokens = 16;
  bool integer = integerTiles(x, w);
  // vdpbf16ps for bf16 activations times bf16 rows of whole blocks: in every call, or (Decode)
  // only in calls of fewer than kPassTokens tokens, the others widening both to f32.
  bool bf16Rows = bf16Dot_ != Bf16Dot::None && w.format == WeightFormat::BF16 &&
                  cast<MemRefType>(x.getType()).getElementType().isBF16() &&
                  w.columns % kQuantBlock == 0;
  bool bf16Pairs = bf16Rows; // in the code being emitted
  LinearTiling tiling = linearTiling(w.columns, integer);
  bool multipass = tiling.columns < w.columns; // then w.columns is whole blocks
  Value tokens = gathered ? gathered->count : rows(x);
  auto rowsOf = [&](Value t) {
    return gathered ? gathered->rowsOf(t) : std::pair<Value, Value>{t, t};
  };
  Value passes = index(1), passBlocks = index(w.columns / kQuantBlock);
  if (multipass) {
    Value many = arith::CmpIOp::create(b_, arith::CmpIPredicate::uge, tokens, index(kPassTokens));
    passes = arith::SelectOp::create(b_, many, index(w.columns / tiling.columns), passes);
    passBlocks = arith::SelectOp::create(b_, many, index(tiling.columns / kQuantBlock), passBlocks);
  }
  Value tokenTiles = arith::MulIOp::create(
      b_, arith::DivUIOp::create(b_, tokens, index(tiling.tokens)), index(tiling.tokens));
  // Workers share whole tiles of rows; the last one also takes the rows after the last tile.
  int64_t numTiles = numRows / tiling.rows;
  auto [tileBegin, tileEnd] = share(index(numTiles));
  Value begin = arith::MulIOp::create(b_, tileBegin, index(tiling.rows));
  Value end = arith::MulIOp::create(b_, tileEnd, index(tiling.rows));
  Value last = arith::CmpIOp::create(b_, arith::CmpIPredicate::eq, worker_,
                                     arith::SubIOp::create(b_, workers_, index(1)));
  Value tailBegin = arith::SelectOp::create(b_, last, index(numTiles * tiling.rows),
                                            index(numRows));
  auto tile = [&](Value pass, Value o, int64_t numTileRows, Value t, int64_t numTileTokens) {
    SmallVector<SmallVector<Value>> wRows, xRows;
    for (int64_t r = 0; r < numTileRows; ++r) {
      wRows.emplace_back(wPrefix);
      wRows.back().push_back(arith::AddIOp::create(b_, o, index(firstRow + r)));
    }
    SmallVector<Value> outRows;
    for (int64_t k = 0; k < numTileTokens; ++k) {
      auto [xRow, outRow] = rowsOf(arith::AddIOp::create(b_, t, index(k)));
      xRows.push_back({xRow});
      outRows.push_back(outRow);
    }
    Value firstBlock = arith::MulIOp::create(b_, pass, passBlocks);
    BlockRange blocks{firstBlock, arith::AddIOp::create(b_, firstBlock, passBlocks), !multipass};
    // The rows after the last whole tile take the f32 products of the decoded activations.
    SmallVector<Value> sums =
        bf16Pairs ? bf16Dots(x, xRows, w, wRows, blocks.firstBlock, blocks.endBlock)
        : integer && numTileRows == tiling.rows
            ? integerDots(x, xRows, w, wRows, blocks.firstBlock, blocks.endBlock)
            : dots(x, xRows, w, wRows, blocks, 1);
    Value first = arith::CmpIOp::create(b_, arith::CmpIPredicate::eq, pass, index(0));
    for (int64_t r = 0; r < numTileRows; ++r)
      for (int64_t k = 0; k < numTileTokens; ++k) {
        SmallVector<Value, 2> at{outRows[k], arith::AddIOp::create(b_, o, index(r))};
        Value sum = sums[r * numTileTokens + k];
        if (multipass)
          sum = arith::AddFOp::create(
              b_, sum,
              arith::SelectOp::create(b_, first, f32(0), memref::LoadOp::create(b_, out, at)));
        memref::StoreOp::create(b_, sum, out, at);
      }
  };
  auto rowsOfTiles = [&](Value pass, Value rowBegin, Value rowEnd, int64_t numTileRows) {
    loop(rowBegin, rowEnd, numTileRows, [&](Value o) {
      loop(index(0), tokenTiles, tiling.tokens,
           [&](Value t) { tile(pass, o, numTileRows, t, tiling.tokens); });
      loop(tokenTiles, tokens, 1, [&](Value t) { tile(pass, o, numTileRows, t, 1); });
    });
  };
  auto allPasses = [&] {
    loop(index(0), passes, 1, [&](Value pass) {
      rowsOfTiles(pass, begin, end, tiling.rows);
      if (numRows % tiling.rows)
        rowsOfTiles(pass, tailBegin, index(numRows), 1);
    });
  };
  if (!bf16Rows || bf16Dot_ == Bf16Dot::All)
    return allPasses();
  Value many = arith::CmpIOp::create(b_, arith::CmpIPredicate::uge, tokens, index(kPassTokens));
  auto passesWith = [&](bool pairs) {
    return [&, pairs] {
      bf16Pairs = pairs;
      allPasses();
    };
  };
  ifElse(many, passesWith(false), passesWith(true));
}

void KernelBuilder::map(ValueRange sources, Value dst, int64_t width,
                        function_ref<Value(ValueRange, Value)> fn) {
  auto [begin, end] = share(rows(dst));
  loop(begin, end, 1, [&](Value r) {
    chunks(width, [&](Value i, VectorType type) {
      SmallVector<Value> loaded;
      for (Value source : sources)
        loaded.push_back(load(source, {r}, i, type));
      store(fn(loaded, r), dst, {r}, i);
    });
  });
}

void KernelBuilder::rmsNormRows(Value src, Value dst, int64_t width, Value gain, double eps) {
  auto [begin, end] = share(rows(src));
  loop(begin, end, 1, [&](Value r) {
    Value meanSquare =
        arith::DivFOp::create(b_, dot(src, {r}, src, {r}), f32(double(width)));
    Value scale = math::RsqrtOp::create(b_, arith::AddFOp::create(b_, meanSquare, f32(eps)));
    chunks(width, [&](Value i, VectorType type) {
      Value y = arith::MulFOp::create(b_, load(src, {r}, i, type), splat(scale, type));
      if (gain)
        y = arith::MulFOp::create(b_, y, load(gain, {}, i, type));
      store(y, dst, {r}, i);
    });
  });
}

void KernelBuilder::ropeInverseFrequencies(double theta, int64_t headDim, int64_t rotated,
                                           SmallVectorImpl<float> &hi,
                                           SmallVectorImpl<float> &lo) {
  for (int64_t c = 0; c < rotated; ++c) {
    double invFreq = 1.0 / std::pow(theta, double(2 * c) / double(headDim));
    hi.push_back(float(invFreq));
    lo.push_back(float(invFreq - double(hi.back())));
  }
}

/// position * (invFreqHi + invFreqLo), reduced modulo 2*pi, as f32 scalars or vectors. A plain f32
/// product is off by up to half an ulp of the angle (4e-3 rad at position 128k), which makes
/// long contexts drift from the oracle's double angles; here the product's rounding error is
/// recovered with an FMA, the low half of the frequency added, and 2*pi (split in two floats,
/// Cody-Waite) subtracted before the sum is rounded, so the angle is within a few 1e-7 rad of
/// the exact one at any position below 2^24 (positions are exact in f32 up to there).
Value KernelBuilder::ropeAngle(Value position, Value invFreqHi, Value invFreqLo) {
  constexpr double twoPi = 6.283185307179586;
  Type type = position.getType();
  auto constant = [&](double value) { return splat(f32(value), type); };
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

Value KernelBuilder::rows(Value memref) { return memref::DimOp::create(b_, memref, 0); }

Value KernelBuilder::flattenRows(Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  if (type.getRank() == 2)
    return memref;
  SmallVector<ReassociationIndices> groups(2);
  for (int64_t d = 0; d + 1 < type.getRank(); ++d)
    groups[0].push_back(d);
  groups[1].push_back(type.getRank() - 1);
  return memref::CollapseShapeOp::create(b_, memref, groups);
}

} // namespace gemc
