//===- ApproximateMath.cpp - exp and tanh as vector polynomials ------------===//
//
// convert-math-to-libm turns every math.exp or math.tanh on a vector into one libm call per
// lane, which made GELU (a tanh per element of the widest activations) and softmax cost as
// much as a projection's arithmetic. This pass replaces those ops by MLIR's polynomial
// approximations before the LLVM lowering, so they stay in vector registers. Only the CPU
// pipeline runs it; the SPIR-V target has its own tanh and the GPU's exp.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"

#include <mlir/Dialect/Math/IR/Math.h>
#include <mlir/Dialect/Math/Transforms/Approximation.h>
#include <mlir/Dialect/Math/Transforms/Passes.h>
#include <mlir/Transforms/GreedyPatternRewriteDriver.h>

namespace gemc {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "compiler/Passes.h.inc"
} // namespace gemc

using namespace mlir;

namespace gemc {
namespace {

struct ApproximateMathPass : impl::ApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      return name == math::ExpOp::getOperationName() ||
             name == math::ExpM1Op::getOperationName() ||
             name == math::TanhOp::getOperationName();
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace gemc
