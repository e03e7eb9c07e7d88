//===- ArtifactWriter.h - Writes a gemc artifact ---------------------------===//
#pragma once

#include "compiler/plan/MemoryPlan.h"
#include "frontends/Checkpoint.h"
#include "targets/cpu/CpuTarget.h"

namespace gemc {

struct ArtifactContents {
  const Checkpoint &checkpoint;
  const CpuTarget &target;
  const WeightLayout &weights;
  const KvCachePlan &kvCache;
  const std::string &code; // the shared object of the code section
  uint64_t scratchBytes;
  std::string entryPoint;
};

/// Writes the artifact through a temporary file renamed into place at the end, streaming the
/// weights tensor by tensor from the mapped checkpoint: a failure leaves no file, and memory
/// does not grow with the model.
llvm::Error writeArtifact(const std::string &path, const ArtifactContents &contents);

} // namespace gemc
