//===- KernelBuilder.cpp - Loops and vector ops of gemc's CPU kernels -------===//

#include "compiler/lowering/KernelBuilder.h"

#include "dialects/gemma/GemmaOps.h"

#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/Math/IR/Math.h>
#include <mlir/Dialect/SCF/IR/SCF.h>
#include <mlir/Dialect/Vector/IR/VectorOps.h>

#include <cmath>

using namespace mlir;

namespace gemc {

Value KernelBuilder::index(int64_t value) { return arith::ConstantIndexOp::create(b_, value); }

Value KernelBuilder::f32(double value) {
  return arith::ConstantOp::create(b_, b_.getF32FloatAttr(float(value)));
}

Value KernelBuilder::splat(Value value, Type type) {
  if (!isa<VectorType>(type))
    return value;
  return vector::BroadcastOp::create(b_, type, value);
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
  Value bytes = loadBytes(w.data, row, arith::MulIOp::create(b_, block, index(scaleBytes)),
                          scaleBytes);
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
  if (w.format == WeightFormat::Q8_0 || w.format == WeightFormat::Q8_Ch) {
    Value bytes = loadBytes(
        w.data, row, arith::AddIOp::create(b_, column, index(layout.valuesOffset)), width);
    values = arith::SIToFPOp::create(b_, type, bytes);
  } else { // 4-bit: value j of a block in byte j % 16, low nibble for j < 16
    Value byte = arith::AddIOp::create(
        b_, arith::MulIOp::create(b_, block, index(layout.blockValueBytes)),
        index(layout.valuesOffset + offset % layout.blockValueBytes));
    Value bytes = loadBytes(w.data, row, byte, width);
    auto bytesType = cast<VectorType>(bytes.getType());
    auto constant = [&](int64_t v) {
      return arith::ConstantOp::create(
          b_, DenseElementsAttr::get(bytesType, b_.getIntegerAttr(b_.getI8Type(), v)));
    };
    Value nibbles = offset < kQuantBlock / 2
                        ? arith::AndIOp::create(b_, bytes, constant(0xF)).getResult()
                        : arith::ShRUIOp::create(b_, bytes, constant(4)).getResult();
    if (w.format == WeightFormat::Q4_0)
      values = arith::SIToFPOp::create(b_, type, arith::SubIOp::create(b_, nibbles, constant(8)));
    else
      values = arith::UIToFPOp::create(b_, type, nibbles);
  }
  Value decoded = arith::MulFOp::create(b_, values, splat(scales.scale, type));
  if (scales.minimum)
    decoded = arith::AddFOp::create(b_, decoded, splat(scales.minimum, type));
  return decoded;
}

SmallVector<Value>
KernelBuilder::walkRow(const WeightRows &w, ValueRange row, ValueRange initial,
                       function_ref<void(const RowChunk &, SmallVectorImpl<Value> &)> body) {
  assert(kQuantBlock % vectorWidth_ == 0 && "a block is whole vectors");
  BlockScales rowScales;
  if (w.format == WeightFormat::Q8_Ch)
    rowScales = loadScales(w, row, index(0));
  bool blockScaled = !isFloatFormat(w.format) && w.format != WeightFormat::Q8_Ch;
  auto visitBlock = [&](Value block, int64_t length, SmallVectorImpl<Value> &state) {
    BlockScales scales = blockScaled ? loadScales(w, row, block) : rowScales;
    Value start = arith::MulIOp::create(b_, block, index(kQuantBlock));
    for (int64_t offset = 0; offset < length;) {
      int64_t width = offset + vectorWidth_ <= length ? vectorWidth_ : 1;
      Value column = arith::AddIOp::create(b_, start, index(offset));
      body({column, offset, decodeChunk(w, row, block, column, offset, width, scales)}, state);
      offset += width;
    }
  };
  SmallVector<Value> state(initial);
  int64_t full = w.columns / kQuantBlock, tail = w.columns % kQuantBlock;
  if (full > 0)
    state = loopCarrying(index(0), index(full), 1, state, [&](Value block, ValueRange carried) {
      SmallVector<Value> next(carried);
      visitBlock(block, kQuantBlock, next);
      return next;
    });
  if (tail > 0)
    visitBlock(index(full), tail, state);
  return state;
}

SmallVector<Value> KernelBuilder::dots(Value a, ArrayRef<SmallVector<Value>> aPrefixes,
                                       const WeightRows &b, ValueRange bPrefix) {
  // Each chunk of b is decoded once for all rows of a. Accumulators: vector<vectorWidth> ones
  // for whole chunks, then vector<1> ones if b's rows end in a tail. With several rows of a,
  // one accumulator per row keeps enough FMA chains in flight; with a single row (decoding one
  // token), each chunk position of a block gets its own, so consecutive FMAs do not wait for
  // each other.
  size_t count = aPrefixes.size();
  size_t chains = count == 1 ? size_t(kQuantBlock / vectorWidth_) : 1;
  bool tail = b.columns % vectorWidth_ != 0;
  size_t wide = count * chains;
  SmallVector<Value> zeros(wide, splat(f32(0), VectorType::get({vectorWidth_}, b_.getF32Type())));
  if (tail)
    zeros.append(count, splat(f32(0), VectorType::get({1}, b_.getF32Type())));
  SmallVector<Value> sums =
      walkRow(b, bPrefix, zeros, [&](const RowChunk &chunk, SmallVectorImpl<Value> &acc) {
        auto type = cast<VectorType>(chunk.values.getType());
        bool whole = type.getNumElements() == vectorWidth_;
        for (size_t k = 0; k < count; ++k) {
          size_t slot = whole ? k * chains + size_t(chunk.offset / vectorWidth_) % chains
                              : wide + k;
          acc[slot] = vector::FMAOp::create(b_, load(a, aPrefixes[k], chunk.column, type),
                                            chunk.values, acc[slot]);
        }
      });
  SmallVector<Value> totals;
  for (size_t k = 0; k < count; ++k) {
    Value vectorSum = sums[k * chains];
    for (size_t c = 1; c < chains; ++c)
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
  return dots(a, {SmallVector<Value>(aPrefix)}, plainRows(b), bPrefix)[0];
}

std::pair<Value, Value> KernelBuilder::share(Value count) {
  auto bound = [&](Value w) {
    return arith::DivUIOp::create(b_, arith::MulIOp::create(b_, count, w), workers_);
  };
  return {bound(worker_), bound(arith::AddIOp::create(b_, worker_, index(1)))};
}

void KernelBuilder::linear(Value x, const WeightRows &w, ValueRange wPrefix, int64_t firstRow,
                           int64_t numRows, Value out) {
  // Weight rows outside, tokens inside: a row is read from memory once per call, and blocks of
  // kTokenBlock tokens share each load of it.
  constexpr int64_t kTokenBlock = 8;
  Value tokens = rows(x);
  Value blocked = arith::MulIOp::create(
      b_, arith::DivUIOp::create(b_, tokens, index(kTokenBlock)), index(kTokenBlock));
  auto [begin, end] = share(index(numRows));
  loop(begin, end, 1, [&](Value o) {
    SmallVector<Value> row(wPrefix);
    row.push_back(arith::AddIOp::create(b_, o, index(firstRow)));
    loop(index(0), blocked, kTokenBlock, [&](Value t) {
      SmallVector<SmallVector<Value>> block;
      for (int64_t k = 0; k < kTokenBlock; ++k)
        block.push_back({arith::AddIOp::create(b_, t, index(k))});
      SmallVector<Value> sums = dots(x, block, w, row);
      for (int64_t k = 0; k < kTokenBlock; ++k)
        memref::StoreOp::create(b_, sums[k], out, ValueRange{block[k][0], o});
    });
    loop(blocked, tokens, 1, [&](Value t) {
      memref::StoreOp::create(b_, dots(x, {{t}}, w, row)[0], out, ValueRange{t, o});
    });
  });
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
