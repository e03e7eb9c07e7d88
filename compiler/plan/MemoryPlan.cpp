//===- MemoryPlan.cpp - Where weights and KV caches live at run time -------===//

#include "compiler/plan/MemoryPlan.h"

#include "dialects/gemma/GemmaOps.h"

using namespace mlir;

namespace gemc {
namespace {
constexpr uint64_t kAlignment = 64;

uint64_t alignUp(uint64_t value) { return (value + kAlignment - 1) / kAlignment * kAlignment; }
} // namespace

const WeightLayout::Entry *WeightLayout::find(llvm::StringRef name) const {
  for (const Entry &entry : entries)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

WeightLayout planWeightLayout(func::FuncOp forward) {
  WeightLayout layout;
  forward.walk([&](gemma::WeightOp op) {
    if (layout.find(op.getName()))
      return;
    auto type = cast<RankedTensorType>(op.getType());
    int64_t columns = type.getRank() ? type.getShape().back() : 1;
    uint64_t rows = uint64_t(type.getNumElements() / std::max<int64_t>(columns, 1));
    uint64_t bytes = rows * rowBytes(op.storedFormat(), columns);
    layout.entries.push_back({op.getName().str(), op.storedFormat(), layout.totalBytes, bytes});
    layout.totalBytes = alignUp(layout.totalBytes + bytes);
  });
  return layout;
}

const KvCachePlan::Layer *KvCachePlan::find(int64_t layer) const {
  for (const Layer &entry : layers)
    if (entry.layer == layer)
      return &entry;
  return nullptr;
}

KvCachePlan planKvCache(func::FuncOp forward, int64_t maxChunk) {
  KvCachePlan plan;
  plan.maxChunk = maxChunk;
  // Ring buffers first: their offsets do not depend on the context length.
  for (bool sliding : {true, false})
    forward.walk([&](gemma::AttentionOp op) {
      if (op.getKvSourceLayer() || op.getSlidingWindow().has_value() != sliding)
        return;
      KvCachePlan::Layer layer{op.getLayer(), op.getNumKvHeads(), op.getHeadDim()};
      uint64_t rowBytes = uint64_t(layer.kvHeads * layer.headDim) * sizeof(float);
      layer.fixedOffset = plan.fixedBytes;
      layer.perContextOffset = plan.perContextBytes;
      if (sliding) {
        layer.ringCapacity = *op.getSlidingWindow() + maxChunk - 1;
        plan.fixedBytes = alignUp(plan.fixedBytes + 2 * rowBytes * layer.ringCapacity);
      } else {
        plan.perContextBytes += 2 * rowBytes; // keeps full regions 4-byte aligned
      }
      plan.layers.push_back(layer);
    });
  return plan;
}

} // namespace gemc
