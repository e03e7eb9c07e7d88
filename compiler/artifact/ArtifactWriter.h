//===- ArtifactWriter.h - Writes a gemc artifact ---------------------------===//
#pragma once

#include "compiler/plan/MemoryPlan.h"
#include "frontends/Checkpoint.h"
#include "frontends/GenerationConfig.h"
#include "targets/cpu/CpuTarget.h"

#include <optional>

namespace gemc {

struct GpuKernelCode {
  uint64_t offset = 0, size = 0; // of its module in the code section
  int64_t workgroupsPerToken = 0, workgroupsFixed = 0;
};

struct ArtifactContents {
  const Checkpoint &checkpoint;
  const CpuTarget &target;
  const MemoryPlan &plan;   // weights, KV cache, scratch and dispatches (readMemoryPlan)
  const std::string &code;  // the shared object of the code section (GPU: the SPIR-V modules)
  /// GPU targets: each dispatch's kernel, its module's place in `code` and its grid. The code
  /// section is then called "spirv".
  std::vector<GpuKernelCode> gpuKernels;
  const GenerationConfig &generation;
  std::string tokenizer;    // serialized SentencePiece model; empty: no tokenizer section
  std::string chatTemplate; // "gemma4" or "gemma4-large"
  std::string runner;       // an executable's runner program, put before the artifact; or empty
  /// --synthetic-weights: no weights section; the runtime generates them from this seed.
  std::optional<uint64_t> syntheticSeed = std::nullopt;
};

/// What identifies a written artifact: its manifest checksum (the compiled model) and its size.
struct WrittenArtifact {
  uint64_t manifestChecksum = 0;
  uint64_t size = 0; // bytes of the artifact itself, without an executable's runner
};

/// Writes the artifact through a temporary file renamed into place at the end, streaming the
/// weights tensor by tensor from the mapped checkpoint: a failure leaves no file, and memory
/// does not grow with the model. With a runner program the file is an executable: the runner,
/// the artifact at the next 4096-byte boundary, and an ExecutableTrailer.
llvm::Expected<WrittenArtifact> writeArtifact(const std::string &path,
                                              const ArtifactContents &contents);

} // namespace gemc
