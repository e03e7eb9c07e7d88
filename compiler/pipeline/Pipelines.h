//===- Pipelines.h - gemma module to a target's code -------------------------===//
#pragma once

#include <mlir/IR/BuiltinOps.h>

#include <string>
#include <vector>

namespace gemc {

/// The CPU kernels' choices: f32 lanes per vector, the int8 dot product (KernelBuilder.h's
/// IntegerDot, CpuTarget's integerDotOf) and where bf16 activations use vdpbf16ps
/// (KernelBuilder.h's Bf16Dot, CpuTarget's bf16DotOf).
struct CpuKernelOptions {
  int64_t vectorWidth = 8;
  std::string integerDot = "none", bf16Dot = "none";
};

/// The first half: gemc-form-dispatches, then for a CPU target (`cpu`) gemc-tile-weight-rows,
/// for GPU targets (no `cpu`) gemc-split-dispatches (one step each), then gemc-plan-buffers
/// (readMemoryPlan then reads what they decided).
mlir::LogicalResult formAndPlanDispatches(mlir::ModuleOp module, int64_t maxChunk,
                                          const CpuKernelOptions *cpu);

/// The CPU half, on a module planned for `cpu`: gemc-lower-dispatches-to-cpu, then the
/// upstream conversions of scf, vector, memref, math, arith and func to the LLVM dialect.
mlir::LogicalResult lowerDispatchesToLLVM(mlir::ModuleOp module, const CpuKernelOptions &cpu);

/// One dispatch's compute shader: a SPIR-V module whose entry point is `name`, and its grid of
/// `perToken * T + fixed` workgroups.
struct SpirvKernel {
  std::string name;
  std::vector<uint32_t> words;
  int64_t perToken = 0, fixed = 0;
};

/// The Vulkan half, on a module planned with one step a dispatch: gemc-lower-dispatches-to-
/// spirv, MLIR's math- and gpu-to-spirv conversions, then each module serialized, in dispatch
/// order (what `gemc-vulkan-pipeline` runs, but for the serialization).
/// A weight larger than `maxBindingBytes` is bound in parts (readMemoryPlan with the same).
mlir::FailureOr<std::vector<SpirvKernel>> lowerDispatchesToSpirv(mlir::ModuleOp module,
                                                                 uint64_t maxBindingBytes);

/// Registers gemc's passes and the pipelines `gemc-cpu-pipeline{vector-width= max-chunk=}`
/// and `gemc-vulkan-pipeline{max-chunk=}`.
void registerGemcPassesAndPipelines();

/// Registers what the pipelines and LLVM IR translation need in `registry`.
void registerPipelineDialects(mlir::DialectRegistry &registry);

} // namespace gemc
