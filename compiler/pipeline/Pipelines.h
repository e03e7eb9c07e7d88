//===- Pipelines.h - gemma module to a target's code -------------------------===//
#pragma once

#include <mlir/IR/BuiltinOps.h>

#include <string>
#include <vector>

namespace gemc {

/// The target-neutral half: gemc-form-dispatches, gemc-split-dispatches when `oneStepEach`
/// (GPU targets), then gemc-plan-buffers (readMemoryPlan then reads what they decided).
mlir::LogicalResult formAndPlanDispatches(mlir::ModuleOp module, int64_t maxChunk,
                                          bool oneStepEach = false);

/// The CPU half, on a planned module: gemc-lower-dispatches-to-cpu, then the upstream
/// conversions of scf, vector, memref, math, arith and func to the LLVM dialect. `integerDot`
/// names the CPU's int8 dot product (KernelBuilder.h's IntegerDot, CpuTarget's integerDot);
/// `bf16Dot` says where bf16 activations use vdpbf16ps (KernelBuilder.h's Bf16Dot,
/// CpuTarget's bf16DotOf).
mlir::LogicalResult lowerDispatchesToLLVM(mlir::ModuleOp module, int64_t vectorWidth,
                                          const std::string &integerDot = "none",
                                          const std::string &bf16Dot = "none");

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
