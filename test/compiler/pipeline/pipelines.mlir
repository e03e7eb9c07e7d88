// RUN: gemc-opt %s --gemc-cpu-pipeline="vector-width=16 max-chunk=8" | FileCheck %s --check-prefix=CPU
// RUN: gemc-opt %s --gemc-vulkan-pipeline="max-chunk=8" | FileCheck %s --check-prefix=VULKAN

// The two named pipelines, from a gemma module: CPU kernels in the LLVM dialect, one function
// per dispatch (the MLP's gate and up projections share one); SPIR-V modules, one per step
// (a dispatch of one step keeps its name).

// CPU: llvm.func @gemc_k0_embed_0(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64)
// CPU: llvm.func @gemc_k1_mlp_1_gate_up(
// CPU: llvm.intr.fmuladd
// CPU: llvm.func @gemc_k2_mlp_1_activate(
// CPU: llvm.func @gemc_k3_mlp_1_down(
// CPU: llvm.func @gemc_k4_lm_head(
// CPU-NOT: llvm.func @gemc_k5

// VULKAN: spirv.module @__spv__gemc_k0_embed_0 
// VULKAN: spirv.module @__spv__gemc_k1_mlp_1_gate_up_linear
// VULKAN: spirv.module @__spv__gemc_k2_mlp_1_gate_up_linear
// VULKAN: spirv.module @__spv__gemc_k3_mlp_1_activate
// VULKAN: spirv.module @__spv__gemc_k4_mlp_1_down
// VULKAN: spirv.module @__spv__gemc_k5_lm_head
// VULKAN-NOT: spirv.module @__spv__gemc_k6
func.func @forward(%ids: tensor<?xi32>, %pos: index) -> tensor<?x16xf32> {
  %table = gemma.weight "embed" : tensor<16x8xbf16>
  %h = gemma.embed %ids, %table {scale = 2.828125 : f32} : (tensor<?xi32>, tensor<16x8xbf16>) -> tensor<?x8xf32>
  %gate = gemma.weight "gate" {format = "q4_0"} : tensor<16x8xbf16>
  %up = gemma.weight "up" {format = "q4_0"} : tensor<16x8xbf16>
  %down = gemma.weight "down" : tensor<8x16xbf16>
  %m = gemma.mlp %h, %gate, %up, %down
      : (tensor<?x8xf32>, tensor<16x8xbf16>, tensor<16x8xbf16>, tensor<8x16xbf16>) -> tensor<?x8xf32>
  %logits = gemma.lm_head %m, %table : (tensor<?x8xf32>, tensor<16x8xbf16>) -> tensor<?x16xf32>
  return %logits : tensor<?x16xf32>
}
