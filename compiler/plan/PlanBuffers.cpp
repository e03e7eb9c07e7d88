//===- PlanBuffers.cpp - Places every exec buffer ---------------------------===//
//
// Design.md invariant 4 (a static memory plan) made concrete: after this pass every buffer op
// carries its byte placement, and the module its totals.
//   Weights: one copy per tensor name, in first-use order, 64-byte aligned.
//   KV cache: rings of sliding layers first (their size does not depend on the context), then
//     the regions of full layers, whose offsets grow with the context length C by a multiple
//     of 64 bytes per position, so that every region is 64-byte aligned (GPUs bind buffers at
//     aligned offsets only); V follows K.
//   Scratch: a first-fit arena over dispatch indices: a buffer is live from the first dispatch
//     that touches it to the last, and two buffers share bytes only if their ranges do not
//     overlap. Token-row buffers are sized for max_chunk tokens.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"
#include "dialects/exec/ExecOps.h"

namespace gemc {
#define GEN_PASS_DEF_PLANBUFFERS
#include "compiler/Passes.h.inc"
} // namespace gemc

using namespace mlir;

namespace gemc {
namespace {

constexpr uint64_t kAlignment = 64;

uint64_t alignUp(uint64_t value) { return (value + kAlignment - 1) / kAlignment * kAlignment; }

/// Byte offsets in the scratch buffer: first fit among released slabs, else a new slab at the
/// end.
class ScratchArena {
public:
  uint64_t allocate(uint64_t bytes) {
    for (Slab &slab : slabs_)
      if (slab.free && slab.bytes >= bytes) {
        slab.free = false;
        return slab.offset;
      }
    slabs_.push_back({end_, bytes, false});
    end_ = alignUp(end_ + bytes);
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

uint64_t planWeights(func::FuncOp forward) {
  llvm::StringMap<uint64_t> placed;
  uint64_t end = 0;
  forward.walk([&](exec::WeightOp op) {
    auto [it, inserted] = placed.try_emplace(op.getName(), end);
    if (inserted)
      end = alignUp(end + op.bytes());
    op.setOffset(int64_t(it->second));
  });
  return end;
}

std::pair<uint64_t, uint64_t> planKvCache(func::FuncOp forward) {
  uint64_t fixed = 0, perContext = 0;
  for (bool sliding : {true, false})
    forward.walk([&](exec::KvCacheOp op) {
      if ((op.getRingCapacity() > 0) != sliding)
        return;
      op.setFixedOffset(int64_t(fixed));
      op.setPerContextOffset(int64_t(perContext));
      if (sliding)
        fixed = alignUp(fixed + uint64_t(op.rowBytes() * op.getRingCapacity()));
      else // a multiple of 64 bytes, so every region is 64-byte aligned at any C (GPU bindings)
        perContext += alignUp(uint64_t(op.rowBytes()));
    });
  return {fixed, perContext};
}

uint64_t planScratch(func::FuncOp forward, int64_t maxChunk) {
  // The range of dispatch indices each scratch buffer is live in.
  SmallVector<exec::DispatchOp> dispatches(forward.getOps<exec::DispatchOp>());
  llvm::MapVector<exec::ScratchOp, std::pair<size_t, size_t>> live;
  for (size_t i = 0; i < dispatches.size(); ++i)
    dispatches[i].walk([&](Operation *op) {
      for (Value operand : op->getOperands())
        if (auto scratch = dyn_cast_or_null<exec::ScratchOp>(exec::rootBuffer(operand))) {
          auto [it, inserted] = live.try_emplace(scratch, std::make_pair(i, i));
          it->second.second = i;
        }
    });
  ScratchArena arena;
  for (size_t i = 0; i < dispatches.size(); ++i) {
    for (auto &[scratch, range] : live)
      if (range.first == i)
        scratch.setOffset(int64_t(arena.allocate(scratch.bytes(maxChunk))));
    for (auto &[scratch, range] : live)
      if (range.second == i)
        arena.release(uint64_t(*scratch.getOffset()));
  }
  return arena.size();
}

struct PlanBuffersPass : impl::PlanBuffersBase<PlanBuffersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    auto maxChunk = module->getAttrOfType<IntegerAttr>(kMaxChunkAttr);
    if (!forward || !maxChunk) {
      module.emitError("expected a forward function split into dispatches "
                       "(gemc-form-dispatches)");
      return signalPassFailure();
    }
    bool unused = false;
    forward.walk([&](exec::ScratchOp op) {
      if (op->use_empty())
        unused = true;
    });
    if (unused) {
      forward.emitError("has a scratch buffer that no dispatch uses");
      return signalPassFailure();
    }
    Builder b(module.getContext());
    auto [kvFixed, kvPerContext] = planKvCache(forward);
    module->setAttr(kWeightBytesAttr, b.getI64IntegerAttr(int64_t(planWeights(forward))));
    module->setAttr(kKvFixedBytesAttr, b.getI64IntegerAttr(int64_t(kvFixed)));
    module->setAttr(kKvPerContextBytesAttr, b.getI64IntegerAttr(int64_t(kvPerContext)));
    module->setAttr(kScratchBytesAttr,
                    b.getI64IntegerAttr(int64_t(planScratch(forward, maxChunk.getInt()))));
  }
};

} // namespace
} // namespace gemc
