//===- KernelBuilder.cpp - Loops and vector ops of gemc's CPU kernels -------===//

#include "compiler/lowering/KernelBuilder.h"

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

SmallVector<Value> KernelBuilder::dots(Value a, ArrayRef<SmallVector<Value>> aPrefixes, Value b,
                                       ValueRange bPrefix, int64_t count) {
  // One accumulator per row of a, so each chunk of b is loaded once and the FMA chains are
  // independent; reduce once, then add the constant tail lane by lane.
  auto accumulate = [&](int64_t begin, int64_t end, int64_t width) {
    auto type = VectorType::get({width}, b_.getF32Type());
    SmallVector<Value> zeros(aPrefixes.size(), splat(f32(0), type));
    SmallVector<Value> sums = loopCarrying(
        index(begin), index(end), width, zeros, [&](Value i, ValueRange acc) {
          Value bChunk = load(b, bPrefix, i, type);
          SmallVector<Value> next;
          for (size_t k = 0; k < aPrefixes.size(); ++k)
            next.push_back(
                vector::FMAOp::create(b_, load(a, aPrefixes[k], i, type), bChunk, acc[k]));
          return next;
        });
    for (Value &sum : sums)
      sum = vector::ReductionOp::create(b_, vector::CombiningKind::ADD, sum);
    return sums;
  };
  int64_t main = count / vectorWidth_ * vectorWidth_;
  SmallVector<Value> totals =
      main > 0 ? accumulate(0, main, vectorWidth_)
               : SmallVector<Value>(aPrefixes.size(), f32(0));
  if (main < count) {
    SmallVector<Value> tails = accumulate(main, count, 1);
    for (size_t k = 0; k < totals.size(); ++k)
      totals[k] = arith::AddFOp::create(b_, totals[k], tails[k]);
  }
  return totals;
}

Value KernelBuilder::dot(Value a, ValueRange aPrefix, Value b, ValueRange bPrefix,
                         int64_t count) {
  return dots(a, {SmallVector<Value>(aPrefix)}, b, bPrefix, count)[0];
}

std::pair<Value, Value> KernelBuilder::share(Value count) {
  auto bound = [&](Value w) {
    return arith::DivUIOp::create(b_, arith::MulIOp::create(b_, count, w), workers_);
  };
  return {bound(worker_), bound(arith::AddIOp::create(b_, worker_, index(1)))};
}

void KernelBuilder::linear(Value x, Value w, ValueRange wPrefix, int64_t firstRow,
                           int64_t numRows, Value out) {
  int64_t width = cast<MemRefType>(x.getType()).getShape().back();
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
      SmallVector<Value> sums = dots(x, block, w, row, width);
      for (int64_t k = 0; k < kTokenBlock; ++k)
        memref::StoreOp::create(b_, sums[k], out, ValueRange{block[k][0], o});
    });
    loop(blocked, tokens, 1, [&](Value t) {
      memref::StoreOp::create(b_, dot(x, {t}, w, row, width), out, ValueRange{t, o});
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
        arith::DivFOp::create(b_, dot(src, {r}, src, {r}, width), f32(double(width)));
    Value scale = math::RsqrtOp::create(b_, arith::AddFOp::create(b_, meanSquare, f32(eps)));
    chunks(width, [&](Value i, VectorType type) {
      Value y = arith::MulFOp::create(b_, load(src, {r}, i, type), splat(scale, type));
      if (gain)
        y = arith::MulFOp::create(b_, y, load(gain, {}, i, type));
      store(y, dst, {r}, i);
    });
  });
}

Value KernelBuilder::geluTanh(Value x) {
  Type type = x.getType();
  auto c = [&](double v) { return splat(f32(v), type); };
  Value cube = arith::MulFOp::create(b_, arith::MulFOp::create(b_, x, x), x);
  Value inner = arith::AddFOp::create(b_, x, arith::MulFOp::create(b_, c(0.044715), cube));
  Value t = math::TanhOp::create(b_, arith::MulFOp::create(b_, c(std::sqrt(2.0 / M_PI)), inner));
  Value half = arith::MulFOp::create(b_, c(0.5), x);
  return arith::MulFOp::create(b_, half, arith::AddFOp::create(b_, c(1.0), t));
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
