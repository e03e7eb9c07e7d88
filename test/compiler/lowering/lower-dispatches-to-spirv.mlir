// RUN: gemc-opt %s --split-input-file --gemc-lower-dispatches-to-spirv --verify-diagnostics | FileCheck %s
// RUN: gemc-opt %s --split-input-file --gemc-lower-dispatches-to-spirv=max-binding-bytes=2048 --verify-diagnostics | FileCheck %s --check-prefix=PARTS
// RUN: gemc-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(gemc-lower-dispatches-to-spirv,gpu.module(convert-math-to-spirv),convert-gpu-to-spirv,spirv.module(spirv-lower-abi-attrs,spirv-update-vce))' | FileCheck %s --check-prefix=SPIRV

// One gpu.module per dispatch, named like the CPU kernel, with one 64-invocation kernel `main`
// whose arguments are the parameters (i32) and the bindings as 1-D arrays: the bf16 weight as
// its i16 bits, the q8_0 weight as bytes. A projection gives each output channel a workgroup
// (grid: 8 and 4 fixed workgroups) and sums each token's products over the workgroup: a
// subgroup reduction, then the subgroups' sums through workgroup memory.
// CHECK-LABEL: module attributes
// CHECK-SAME: exec.workgroups = [array<i64: 0, 8>, array<i64: 0, 4>]
// CHECK-SAME: gpu.container_module
// CHECK: gpu.module @gemc_k0_attention_0_project_linear {
// CHECK-NEXT: gpu.func @main(%[[PARAMS:[^:]*]]: memref<?xi32>, %[[X:[^:]*]]: memref<?xf32>, %[[W:[^:]*]]: memref<?xi16>, %[[OUT:[^:]*]]: memref<?xf32>) kernel
// CHECK-SAME: workgroup_size = [64, 1, 1]
// CHECK: %[[PARTIALS:.*]] = memref.alloc() : memref<64xf32, #spirv.storage_class<Workgroup>>
// CHECK: %[[BITS:.*]] = memref.load %[[W]][%{{.*}}] : memref<?xi16>
// CHECK: %[[WIDE:.*]] = arith.extui %[[BITS]] : i16 to i32
// CHECK: %[[SHIFTED:.*]] = arith.shli %[[WIDE]], %{{.*}} : i32
// CHECK: arith.bitcast %[[SHIFTED]] : i32 to f32
// CHECK: gpu.subgroup_reduce add
// CHECK: memref.store %{{.*}}, %[[PARTIALS]]
// CHECK: gpu.barrier
// CHECK: gpu.module @gemc_k1_attention_0_project_linear {
// CHECK-NEXT: gpu.func @main(%{{[^:]*}}: memref<?xi32>, %{{[^:]*}}: memref<?xf32>, %{{[^:]*}}: memref<?xi8>, %{{[^:]*}}: memref<?xf32>) kernel
// CHECK-NOT: exec.linear
// SPIRV: spirv.module @__spv__gemc_k0_attention_0_project_linear Logical GLSL450
// SPIRV: spirv.GroupNonUniformFAdd <Subgroup> <Reduce>
// SPIRV: spirv.EntryPoint "GLCompute" @main
// SPIRV: spirv.module @__spv__gemc_k1_attention_0_project_linear
module attributes {exec.max_chunk = 4 : i64, exec.scratch_bytes = 256 : i64} {
  func.func @forward() {
    %x = exec.scratch {offset = 0 : i64} : memref<?x8xf32>
    %q = exec.scratch {offset = 128 : i64} : memref<?x2x4xf32>
    %k = exec.scratch {offset = 0 : i64} : memref<?x1x4xf32>
    %wq = exec.weight "q" {columns = 8 : i64, format = "bf16", offset = 0 : i64} : memref<8x8xbf16>
    %wk = exec.weight "k" {columns = 8 : i64, format = "q8_0", offset = 128 : i64} : memref<4x10xi8>
    exec.dispatch "attention_0.project.linear" {
      exec.linear %x, %wq into %q {first_row = 0 : i64} : memref<?x8xf32>, memref<8x8xbf16> into memref<?x2x4xf32>
    }
    exec.dispatch "attention_0.project.linear" {
      exec.linear %x, %wk into %k {first_row = 0 : i64} : memref<?x8xf32>, memref<4x10xi8> into memref<?x1x4xf32>
    }
    return
  }
}

// -----

// A weight larger than a binding may hold is bound in parts of whole rows, a multiple of 64
// rows each: 130 rows of 32 bytes with at most 2048 bytes a binding are parts of 64, 64 and 2
// rows, three arguments; a load picks its part by row and reads the row's index in the part.
// PARTS-LABEL: gpu.module @gemc_k0_lm_head
// PARTS-NEXT: gpu.func @main(%{{[^:]*}}: memref<?xi32>, %{{[^:]*}}: memref<?xf32>, %[[P0:[^:]*]]: memref<?xf32>, %[[P1:[^:]*]]: memref<?xf32>, %[[P2:[^:]*]]: memref<?xf32>, %{{[^:]*}}: memref<?xf32>) kernel
// PARTS: arith.divui %{{.*}}, %{{.*}} : index
// PARTS: arith.remui %{{.*}}, %{{.*}} : index
// PARTS: scf.if %{{.*}} -> (f32) {
// PARTS: memref.load %[[P0]]
// PARTS: } else {
// PARTS: scf.if %{{.*}} -> (f32) {
// PARTS: memref.load %[[P1]]
// PARTS: } else {
// PARTS: memref.load %[[P2]]
module attributes {exec.max_chunk = 4 : i64, exec.scratch_bytes = 512 : i64} {
  func.func @forward() {
    %x = exec.scratch {offset = 0 : i64} : memref<?x8xf32>
    %table = exec.weight "table" {columns = 8 : i64, format = "f32", offset = 0 : i64} : memref<130x8xf32>
    %logits = exec.logits : memref<?x130xf32>
    exec.dispatch "lm_head" {
      exec.linear %x, %table into %logits {first_row = 0 : i64} : memref<?x8xf32>, memref<130x8xf32> into memref<?x130xf32>
    }
    return
  }
}

// -----

// An elementwise body runs on scalars, one invocation per element (a workgroup per 64 elements
// of a token row); tanh is expanded so that it cannot overflow: sign(x) (1 - 2 / (e^2|x| + 1)).
// CHECK: exec.workgroups = [array<i64: 2, 0>]
// CHECK: gpu.module @gemc_k0_mlp_1_activate
// CHECK-NEXT: gpu.func @main
// CHECK: math.absf
// CHECK: math.exp
// CHECK: math.copysign
// CHECK-NOT: math.tanh
module attributes {exec.max_chunk = 4 : i64, exec.scratch_bytes = 512 : i64} {
  func.func @forward() {
    %g = exec.scratch {offset = 0 : i64} : memref<?x100xf32>
    exec.dispatch "mlp_1.activate" {
      exec.elementwise ins(%g : memref<?x100xf32>) outs(%g : memref<?x100xf32>) {
      ^bb0(%a: f32):
        %0 = math.tanh %a : f32
        exec.yield %0 : f32
      }
    }
    return
  }
}

// -----

// GPU kernels run one step each.
module attributes {exec.max_chunk = 4 : i64, exec.scratch_bytes = 512 : i64} {
  func.func @forward() {
    %g = exec.scratch {offset = 0 : i64} : memref<?x4xf32>
    // expected-error @+1 {{'exec.dispatch' op must hold one step (gemc-split-dispatches)}}
    exec.dispatch "two" {
      exec.rms_norm %g into %g {eps = 1.0e-06 : f64} : memref<?x4xf32> into memref<?x4xf32>
      exec.rms_norm %g into %g {eps = 1.0e-06 : f64} : memref<?x4xf32> into memref<?x4xf32>
    }
    return
  }
}
