//===- SplitDispatches.cpp - One step per dispatch ---------------------------===//
//
// GPU kernels get one step each: a dispatch whose steps would share a grid (the q/k/v
// projections, the three norms, RoPE and the cache store) becomes one dispatch per step, in
// the same order, each with the views its step reads. Splitting only adds ordering between
// steps that needed none, so it is always correct; fusing such steps into one GPU kernel is
// the faster form and a later pass's job. CPU targets keep the grouped dispatches, which save
// barriers.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"
#include "dialects/exec/ExecOps.h"

#include <mlir/IR/IRMapping.h>

namespace gemc {
#define GEN_PASS_DEF_SPLITDISPATCHES
#include "compiler/Passes.h.inc"
} // namespace gemc

using namespace mlir;

namespace gemc {
namespace {

bool isStep(Operation &op) { return isa<exec::ExecDialect>(op.getDialect()); }

/// Replaces `dispatch` by one dispatch per step, named after the dispatch and the step.
void splitDispatch(exec::DispatchOp dispatch) {
  Block &body = dispatch.getBody().front();
  OpBuilder builder(dispatch);
  for (Operation &step : body) {
    if (!isStep(step))
      continue;
    std::string name =
        (dispatch.getName() + "." + step.getName().stripDialect()).str();
    auto split = exec::DispatchOp::create(builder, dispatch.getLoc(), name);
    OpBuilder inner = OpBuilder::atBlockBegin(&split.getBody().emplaceBlock());
    IRMapping mapping;
    for (Operation &op : body) // the views and index values, then the step
      if (!isStep(op) || &op == &step)
        inner.clone(op, mapping);
    // Views that this step does not read.
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(split.getBody().front())))
      if (!isStep(op) && op.use_empty())
        op.erase();
  }
  dispatch.erase();
}

struct SplitDispatchesPass : impl::SplitDispatchesBase<SplitDispatchesPass> {
  void runOnOperation() override {
    SmallVector<exec::DispatchOp> grouped;
    getOperation().walk([&](exec::DispatchOp dispatch) {
      if (llvm::count_if(dispatch.getBody().front(), isStep) > 1)
        grouped.push_back(dispatch);
    });
    for (exec::DispatchOp dispatch : grouped)
      splitDispatch(dispatch);
  }
};

} // namespace
} // namespace gemc
