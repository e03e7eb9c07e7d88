//===- MemoryPlan.h - Where weights and KV caches live at run time --------===//
//
// Two static plans computed from a gemma module, shared by the lowering (which bakes the
// offsets into the generated code) and the artifact writer and runtime (which fill and allocate
// the buffers):
//   WeightLayout: every gemma.weight in order of first use, at 64-byte aligned offsets of one
//     weight section, stored in its format (WeightOp::storedFormat, rowBytes per row).
//   KvCachePlan: one K and one V region per layer that owns its KV cache, f32
//     [capacity, kv heads, head dim]. Sliding layers keep a ring of `window + maxChunk - 1`
//     positions (enough for a chunk of maxChunk new tokens to see `window` keys each); full
//     layers keep the whole context. KV-shared layers allocate nothing (design.md invariant 4).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/common/WeightFormat.h"

#include <mlir/Dialect/Func/IR/FuncOps.h>

#include <string>
#include <vector>

namespace gemc {

struct WeightLayout {
  struct Entry {
    std::string name;
    WeightFormat format = WeightFormat::F32;
    uint64_t offset = 0, bytes = 0;
  };
  std::vector<Entry> entries;
  uint64_t totalBytes = 0;

  const Entry *find(llvm::StringRef name) const;
};

WeightLayout planWeightLayout(mlir::func::FuncOp forward);

struct KvCachePlan {
  struct Layer {
    int64_t layer = 0, kvHeads = 0, headDim = 0;
    int64_t ringCapacity = 0; // sliding layers; 0 on full layers (capacity = context length)
    // Byte offset of the K region: fixedOffset + perContextOffset * contextLength. The V region
    // follows it.
    uint64_t fixedOffset = 0, perContextOffset = 0;
  };
  std::vector<Layer> layers;
  int64_t maxChunk = 0;
  uint64_t fixedBytes = 0, perContextBytes = 0;

  const Layer *find(int64_t layer) const;
  uint64_t bytes(int64_t contextLength) const {
    return fixedBytes + perContextBytes * uint64_t(contextLength);
  }
};

KvCachePlan planKvCache(mlir::func::FuncOp forward, int64_t maxChunk);

} // namespace gemc
