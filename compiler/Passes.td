//===- Passes.td - gemc's passes ----------------------------*- tablegen -*-===//
//
// From the gemma dialect to a target's kernels, in three steps:
//   gemc-form-dispatches       gemma ops -> exec buffers and dispatches (target-neutral)
//   gemc-split-dispatches      one step per dispatch (GPU targets)
//   gemc-tile-weight-rows      integer-product weights stored in row tiles (CPU targets)
//   gemc-plan-buffers          places every exec buffer (target-neutral)
//   gemc-lower-dispatches-to-cpu   each dispatch -> a CPU kernel function
//   gemc-lower-dispatches-to-spirv each dispatch -> a SPIR-V compute shader (Vulkan)
// Pipelines that chain them with the upstream conversions are registered in Pipelines.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GEMC_PASSES
#define GEMC_PASSES

include "mlir/Pass/PassBase.td"

def FormDispatches : Pass<"gemc-form-dispatches", "::mlir::ModuleOp"> {
  let summary = "Split the gemma forward function into dispatches of kernel steps";
  let description = [{
    Rewrites `func.func @forward` from gemma ops on tensors into the exec dialect: every value
    gets a buffer (`exec.scratch`, `exec.weight`, `exec.kv_cache`, `exec.token_ids`,
    `exec.logits`) and every gemma op becomes the few dispatches its computation needs, split
    where a step reads another token row's or another output channel's result. The result is
    `func.func @forward()` with no arguments: run-time values are implicit (ExecOps.td).
  }];
  let options = [
    Option<"maxChunk", "max-chunk", "int64_t", "64",
           "the most tokens one call may evaluate (sizes scratch and the KV rings)">,
  ];
  let dependentDialects = ["::gemc::exec::ExecDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect", "::mlir::math::MathDialect"];
}

def SplitDispatches : Pass<"gemc-split-dispatches", "::mlir::ModuleOp"> {
  let summary = "Give every step a dispatch of its own (GPU targets)";
  let description = [{
    A dispatch with several steps becomes one dispatch per step, in order, named
    `<dispatch>.<step>`, each holding the views its step reads. GPU kernels run one step
    each; CPU targets keep the grouped dispatches, which need fewer barriers.
  }];
}

def PlanBuffers : Pass<"gemc-plan-buffers", "::mlir::ModuleOp"> {
  let summary = "Place every exec buffer in the weight, KV-cache and scratch buffers";
  let description = [{
    Gives each `exec.weight` its offset in the weight section (first-use order, 64-byte
    aligned, one copy per name), each `exec.kv_cache` its region (rings of sliding layers
    first, then the context-sized regions of full layers; V after K), and each `exec.scratch`
    an offset that no buffer live in an overlapping range of dispatches shares. Totals go into
    module attributes (`exec.weight_bytes`, `exec.kv_fixed_bytes`,
    `exec.kv_per_context_bytes`, `exec.scratch_bytes`). After this pass the IR is the one
    record of where everything lives: kernels, the dispatch table and the artifact read it.
  }];
}

def TileWeightRows : Pass<"gemc-tile-weight-rows", "::mlir::ModuleOp"> {
  let summary = "Store the weights of integer dot products in row tiles (CPU targets)";
  let description = [{
    Sets `tile_rows` on each `exec.weight` that `exec.linear`s of int8 activations read over
    whole tiles of its rows (KernelBuilder.h's integerTileRows for the options' vector width
    and integer dot product), and nothing else but `exec.gather_rows`: the artifact then
    stores its rows in tiles (WeightFormat.h), which the integer tiles read as one stream.
    Runs before gemc-plan-buffers.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", "8", "f32 lanes per vector">,
    Option<"integerDot", "integer-dot", "std::string", "\"none\"",
           "the CPU's int8 dot product: vnni, maddubs, sdot or none">,
  ];
}

def LowerDispatchesToCpu : Pass<"gemc-lower-dispatches-to-cpu", "::mlir::ModuleOp"> {
  let summary = "Generate one CPU kernel function per dispatch";
  let description = [{
    Each `exec.dispatch` of a planned module becomes `gemc_k<i>_<name>(bindings, params,
    worker, workers)` (runtime/common/ExecutionAbi.h) made of scf loops and vector ops: every
    worker runs it on its share of the dispatch's rows or output channels, and the runtime
    separates dispatches with a barrier. The forward function is erased.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", "8", "f32 lanes per vector">,
    Option<"integerDot", "integer-dot", "std::string", "\"none\"",
           "the CPU's int8 dot product for int8 activations: vnni (vpdpbusd), maddubs "
           "(vpmaddubsw + vpmaddwd), sdot (NEON dotprod) or none (f32 products)">,
    Option<"bf16Dot", "bf16-dot", "std::string", "\"none\"",
           "where bf16 activations use vdpbf16ps (AVX512-BF16): all calls, decode steps "
           "(calls of fewer than 16 tokens) or none (f32 products)">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect", "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect", "::mlir::LLVM::LLVMDialect",
                           "::mlir::func::FuncDialect"];
}

def ApproximateMath : Pass<"gemc-approximate-math", "::mlir::ModuleOp"> {
  let summary = "Evaluate exp and tanh of the CPU kernels as polynomials in vector registers";
  let description = [{
    Rewrites math.exp, math.expm1 and math.tanh on f32 scalars and vectors into MLIR's
    polynomial approximations (range reduction, then a polynomial or rational function made of
    FMAs), instead of a libm call per lane: softmax, GELU and the logit softcap then run at
    vector speed. The approximations are within a few ulp of the libm results.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def LowerDispatchesToSpirv : Pass<"gemc-lower-dispatches-to-spirv", "::mlir::ModuleOp"> {
  let summary = "Generate one GPU compute kernel per dispatch, for SPIR-V";
  let description = [{
    Each dispatch of a planned module, one step each (gemc-split-dispatches), becomes a
    `gpu.module` named like the CPU kernel (`gemc_k<i>_<name>`) with one `gpu.func` of 64
    invocations per workgroup, whose arguments are the parameters buffer and the dispatch's
    bindings as 1-D arrays of SPIR-V-safe element types. Each kernel's grid (workgroups per
    token and fixed) goes into the module attribute `exec.workgroups`. MLIR's gpu-to-spirv
    conversion then makes the SPIR-V modules (Pipelines: gemc-vulkan-pipeline). A weight
    larger than `max-binding-bytes` is bound as several parts of whole rows (as
    readMemoryPlan lists them); its loads pick the part.
  }];
  let options = [
    Option<"maxBindingBytes", "max-binding-bytes", "uint64_t", "::gemc::kMaxGpuBindingBytes",
           "the most bytes one binding holds">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect", "::mlir::spirv::SPIRVDialect"];
}

#endif // GEMC_PASSES
