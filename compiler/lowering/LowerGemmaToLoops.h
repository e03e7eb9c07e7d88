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
///                weights: memref<?xi8>, kv_cache: memref<?xi8>, logits: memref<?xVxf32>)
/// with a C interface (`_mlir_ciface_gemc_forward`).
constexpr const char *kForwardSymbol = "gemc_forward";

std::unique_ptr<mlir::Pass> createLowerGemmaToLoopsPass(const CpuLoweringOptions &options);
void registerLowerGemmaToLoopsPass();

} // namespace gemc
