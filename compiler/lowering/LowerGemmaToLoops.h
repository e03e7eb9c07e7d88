//===- LowerGemmaToLoops.h - gemma ops to memref/scf/vector code ----------===//
#pragma once

#include "runtime/common/ForwardAbi.h"

#include <mlir/Pass/Pass.h>

#include <memory>

namespace gemc {

struct CpuLoweringOptions {
  int64_t vectorWidth = 8; // f32 lanes: 8 for AVX2, 16 for AVX-512, 4 for NEON
  int64_t maxChunk = 64;   // the most tokens one call may evaluate (sizes the KV rings)
};

/// The pass lowers the model's forward function to the entry point that runtime/common/ForwardAbi.h
/// describes (kForwardSymbol, with its C interface kForwardCInterfaceSymbol). `scratch` holds
/// all activations: the pass records its size in bytes in the module attribute
/// `gemc.scratch_bytes`.
constexpr const char *kScratchBytesAttr = "gemc.scratch_bytes";

std::unique_ptr<mlir::Pass> createLowerGemmaToLoopsPass(const CpuLoweringOptions &options);
void registerLowerGemmaToLoopsPass();

} // namespace gemc
