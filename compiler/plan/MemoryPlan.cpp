//===- MemoryPlan.cpp - The planned buffers and dispatches, read from the IR -===//

#include "compiler/plan/MemoryPlan.h"

#include "compiler/Passes.h"
#include "dialects/exec/ExecOps.h"

#include <llvm/ADT/StringSet.h>
#include <llvm/ADT/TypeSwitch.h>

using namespace mlir;

namespace gemc {
namespace {

int64_t moduleInt(ModuleOp module, const char *name) {
  auto attr = module->getAttrOfType<IntegerAttr>(name);
  return attr ? attr.getInt() : -1;
}

/// The byte range a buffer op other than a weight binds (ExecutionAbi.h).
BindingRange bindingOf(Operation *buffer, int64_t maxChunk) {
  return TypeSwitch<Operation *, BindingRange>(buffer)
      .Case([](exec::KvCacheOp op) {
        uint64_t row = uint64_t(op.rowBytes()), ring = uint64_t(op.getRingCapacity());
        return BindingRange{BufferKind::KvCache, uint64_t(*op.getFixedOffset()),
                            uint64_t(*op.getPerContextOffset()), ring * row, ring ? 0 : row};
      })
      .Case([&](exec::ScratchOp op) {
        return BindingRange{BufferKind::Scratch, uint64_t(*op.getOffset()), 0,
                            op.bytes(maxChunk), 0};
      })
      .Case([](exec::TokenIdsOp) { return BindingRange{BufferKind::TokenIds}; })
      .Case([](exec::LogitsOp) { return BindingRange{BufferKind::Logits}; });
}

} // namespace

/// A weight's parts of at most `maxBindingBytes` each (one part without a limit).
void appendWeightParts(exec::WeightOp op, uint64_t maxBindingBytes,
                       std::vector<BindingRange> &bindings) {
  int64_t rows = op.rows(), perPart = op.rowsPerBinding(maxBindingBytes);
  for (int64_t first = 0; first < rows; first += perPart)
    bindings.push_back({BufferKind::Weights,
                        uint64_t(*op.getOffset()) + uint64_t(first) * op.bytesPerRow(), 0,
                        uint64_t(std::min(perPart, rows - first)) * op.bytesPerRow(), 0});
}

FailureOr<MemoryPlan> readMemoryPlan(ModuleOp planned, uint64_t maxBindingBytes) {
  auto forward = planned.lookupSymbol<func::FuncOp>("forward");
  MemoryPlan plan;
  plan.maxChunk = moduleInt(planned, kMaxChunkAttr);
  int64_t scratch = moduleInt(planned, kScratchBytesAttr);
  if (!forward || plan.maxChunk < 1 || scratch < 0)
    return planned.emitError("expected a module planned by gemc-plan-buffers");
  plan.scratchBytes = uint64_t(scratch);
  plan.weights.totalBytes = uint64_t(moduleInt(planned, kWeightBytesAttr));
  plan.kvCache.fixedBytes = uint64_t(moduleInt(planned, kKvFixedBytesAttr));
  plan.kvCache.perContextBytes = uint64_t(moduleInt(planned, kKvPerContextBytesAttr));
  llvm::StringSet<> seen;
  for (auto op : forward.getOps<exec::WeightOp>())
    if (seen.insert(op.getName()).second)
      plan.weights.entries.push_back(
          {op.getName().str(), op.weightFormat(), uint64_t(*op.getOffset()), op.bytes(),
           op.getTileRows().value_or(0)});
  llvm::sort(plan.weights.entries,
             [](const auto &a, const auto &b) { return a.offset < b.offset; });
  for (auto op : forward.getOps<exec::KvCacheOp>()) {
    if (op.getValues())
      continue;
    ArrayRef<int64_t> shape = op.getType().getShape();
    plan.kvCache.layers.push_back({op.getLayer(), shape[1], shape[2], op.getRingCapacity(),
                                   uint64_t(*op.getFixedOffset()),
                                   uint64_t(*op.getPerContextOffset())});
  }
  for (auto dispatch : forward.getOps<exec::DispatchOp>()) {
    DispatchEntry entry{dispatch.getName().str(), {}};
    for (Operation *buffer : exec::dispatchBindings(dispatch)) {
      if (auto weight = dyn_cast<exec::WeightOp>(buffer))
        appendWeightParts(weight, maxBindingBytes, entry.bindings);
      else
        entry.bindings.push_back(bindingOf(buffer, plan.maxChunk));
    }
    plan.dispatches.push_back(std::move(entry));
  }
  return plan;
}

} // namespace gemc
