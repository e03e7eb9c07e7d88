//===- MemoryPlan.h - The planned buffers and dispatches, read from the IR ------===//
//
// gemc-plan-buffers records every placement in the IR; these functions read it back for the
// artifact writer (weight section, manifest) and the tests, so nothing is computed twice:
//   WeightLayout: every weight of the weight section, in section order.
//   KvCachePlan: each layer's K region (V follows), as the manifest describes it.
//   DispatchTable: each dispatch's name and bindings (ExecutionAbi.h), in run order.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/common/ExecutionAbi.h"
#include "runtime/common/WeightFormat.h"

#include <mlir/IR/BuiltinOps.h>

#include <string>
#include <vector>

namespace gemc {

struct WeightLayout {
  struct Entry {
    std::string name;
    WeightFormat format = WeightFormat::F32;
    uint64_t offset = 0, bytes = 0;
    int64_t tileRows = 0; // rows stored in tiles of this many (WeightFormat.h), or 0
  };
  std::vector<Entry> entries;
  uint64_t totalBytes = 0;
};

struct KvCachePlan {
  struct Layer {
    int64_t layer = 0, kvHeads = 0, headDim = 0;
    int64_t ringCapacity = 0; // sliding layers; 0 on full layers (capacity = context length)
    // Byte offset of the K region: fixedOffset + perContextOffset * contextLength.
    uint64_t fixedOffset = 0, perContextOffset = 0;
  };
  std::vector<Layer> layers;
  uint64_t fixedBytes = 0, perContextBytes = 0;
};

struct DispatchEntry {
  std::string name;
  std::vector<BindingRange> bindings;
};

/// Everything gemc-plan-buffers decided, read from a planned module.
struct MemoryPlan {
  WeightLayout weights;
  KvCachePlan kvCache;
  int64_t maxChunk = 0;
  uint64_t scratchBytes = 0;
  std::vector<DispatchEntry> dispatches;
};

/// Fails (with a diagnostic on the module) unless gemc-plan-buffers ran. With
/// `maxBindingBytes` (GPU targets), a weight larger than that is bound as several parts of
/// whole rows (exec::WeightOp::rowsPerBinding), as gemc-lower-dispatches-to-spirv reads it.
mlir::FailureOr<MemoryPlan> readMemoryPlan(mlir::ModuleOp planned, uint64_t maxBindingBytes = 0);

} // namespace gemc
