//===- LowerGemmaToLoops.h - gemma ops to memref/scf/vector code ----------===//
#pragma once

#include <mlir/Pass/Pass.h>

#include <memory>

namespace gemc {

struct CpuLoweringOptions {
  int64_t vectorWidth = 8; // f32 lanes: 8 for AVX2, 16 for AVX-512, 4 for NEON
  int64_t maxChunk = 64;   // the most tokens one call may evaluate (sizes the KV rings)
};

/// The name of the lowered entry point:
///   gemc_forward(ids: memref<?xi32>, start_pos: index, context_length: index,
///                weights: memref<?xi8>, kv_cache: memref<?xi8>, scratch: memref<?xi8>,
///                logits: memref<?xVxf32>, worker: index, workers: index,
///                barrier: (!llvm.ptr) -> (), barrier_context: !llvm.ptr)
/// with a C interface (`_mlir_ciface_gemc_forward`). Every worker thread calls it with the same
/// buffers and its own `worker` number; it calls barrier(barrier_context) between dependent
/// steps. `logits` may have fewer rows than the call has tokens: it receives the logits of the
/// last rows (one row: just the next-token distribution). `scratch` holds all activations: the pass records its size in bytes in the module
/// attribute `gemc.scratch_bytes`.
constexpr const char *kForwardSymbol = "gemc_forward";
constexpr const char *kScratchBytesAttr = "gemc.scratch_bytes";

std::unique_ptr<mlir::Pass> createLowerGemmaToLoopsPass(const CpuLoweringOptions &options);
void registerLowerGemmaToLoopsPass();

} // namespace gemc
