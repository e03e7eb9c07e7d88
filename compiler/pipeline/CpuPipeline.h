//===- CpuPipeline.h - gemma module to LLVM for a CPU ---------------------===//
#pragma once

#include <mlir/IR/BuiltinOps.h>

namespace gemc {

struct CpuLoweringOptions {
  int64_t vectorWidth = 8; // f32 lanes: 8 for AVX2, 16 for AVX-512, 4 for NEON
  int64_t maxChunk = 64;   // the most tokens one call may evaluate (sizes scratch, KV rings)
};

/// The target-neutral half: gemc-form-dispatches, then gemc-plan-buffers (readMemoryPlan then
/// reads what they decided).
mlir::LogicalResult formAndPlanDispatches(mlir::ModuleOp module, int64_t maxChunk);

/// The CPU half, on a planned module: gemc-lower-dispatches-to-cpu, then the upstream
/// conversions of scf, vector, memref, math, arith and func to the LLVM dialect.
mlir::LogicalResult lowerDispatchesToLLVM(mlir::ModuleOp module, int64_t vectorWidth);

/// Both halves (what the pipeline `gemc-cpu-pipeline` runs). Errors are reported through the
/// context's diagnostic handler.
mlir::LogicalResult lowerToLLVMDialect(mlir::ModuleOp module, const CpuLoweringOptions &options);

/// Registers gemc's passes and the pipeline `gemc-cpu-pipeline{vector-width= max-chunk=}`.
void registerGemcPassesAndPipelines();

/// Registers what the pipelines and LLVM IR translation need in `registry`.
void registerCpuPipelineDialects(mlir::DialectRegistry &registry);

} // namespace gemc
