// RUN: gemc-opt %s --split-input-file --gemc-plan-buffers --verify-diagnostics | FileCheck %s

// Buffer planning, with every offset computed by hand. The steps only mark which dispatch uses
// which buffer.

// Weights: first-use order, 64-byte aligned, one copy per name.
//   "a" f32 [3, 8]: 96 bytes at 0; "b" q8_0 [2, 32]: rows of 2 + 32 bytes, 68 bytes at 128.
// KV: rings first. Layer 0 (1 head x 4, 16 bytes a position, ring of 5): K at 0 (80 bytes, so
//   the next region starts at 128), V at 128; 256 fixed bytes. Layer 1 (full, 2 x 4, 32 bytes a
//   position, advanced by 64 so that regions stay 64-byte aligned): K at 256 + 0 * C, V at
//   256 + 64 * C; 128 bytes per position.
// Scratch (max_chunk 4): s0 f32 [4, 8] = 128 bytes at 0, live in dispatches 0-1; s1 f32 [4, 4]
//   = 64 bytes at 128, live in 0 only; s2 f32 [4, 2] = 32 bytes reuses s1's bytes in 1;
//   s3 i64 [16] = 128 bytes does not fit there: at 192, so 320 bytes in all.
// CHECK-LABEL: module attributes
// CHECK-SAME: exec.kv_fixed_bytes = 256 : i64, exec.kv_per_context_bytes = 128 : i64
// CHECK-SAME: exec.scratch_bytes = 320 : i64, exec.weight_bytes = 256 : i64
// CHECK: exec.weight "a" {columns = 8 : i64, format = "f32", offset = 0 : i64}
// CHECK: exec.weight "b" {columns = 32 : i64, format = "q8_0", offset = 128 : i64}
// CHECK: exec.weight "a" {columns = 8 : i64, format = "f32", offset = 0 : i64}
// CHECK: exec.kv_cache {fixed_offset = 256 : i64, layer = 1 : i64, per_context_offset = 0 : i64, ring_capacity = 0 : i64, values = false}
// CHECK: exec.kv_cache {fixed_offset = 256 : i64, layer = 1 : i64, per_context_offset = 64 : i64, ring_capacity = 0 : i64, values = true}
// CHECK: exec.kv_cache {fixed_offset = 0 : i64, layer = 0 : i64, per_context_offset = 0 : i64, ring_capacity = 5 : i64, values = false}
// CHECK: exec.kv_cache {fixed_offset = 128 : i64, layer = 0 : i64, per_context_offset = 0 : i64, ring_capacity = 5 : i64, values = true}
// CHECK: exec.scratch {offset = 0 : i64} : memref<?x8xf32>
// CHECK: exec.scratch {offset = 128 : i64} : memref<?x4xf32>
// CHECK: exec.scratch {offset = 128 : i64} : memref<?x2xf32>
// CHECK: exec.scratch {offset = 192 : i64} : memref<16xi64>
module attributes {exec.max_chunk = 4 : i64} {
  func.func @forward() {
    %a = exec.weight "a" {columns = 8 : i64, format = "f32"} : memref<3x8xf32>
    %b = exec.weight "b" {columns = 32 : i64, format = "q8_0"} : memref<2x34xi8>
    %a2 = exec.weight "a" {columns = 8 : i64, format = "f32"} : memref<3x8xf32>
    %kf = exec.kv_cache {layer = 1 : i64, values = false, ring_capacity = 0 : i64} : memref<?x2x4xf32>
    %vf = exec.kv_cache {layer = 1 : i64, values = true, ring_capacity = 0 : i64} : memref<?x2x4xf32>
    %ks = exec.kv_cache {layer = 0 : i64, values = false, ring_capacity = 5 : i64} : memref<?x1x4xf32>
    %vs = exec.kv_cache {layer = 0 : i64, values = true, ring_capacity = 5 : i64} : memref<?x1x4xf32>
    %s0 = exec.scratch : memref<?x8xf32>
    %s1 = exec.scratch : memref<?x4xf32>
    %s2 = exec.scratch : memref<?x2xf32>
    %s3 = exec.scratch : memref<16xi64>
    exec.dispatch "d0" {
      exec.rms_norm %s0 into %s1 {eps = 1.0e-06 : f64} : memref<?x8xf32> into memref<?x4xf32>
    }
    exec.dispatch "d1" {
      exec.rms_norm %s2 into %s0 {eps = 1.0e-06 : f64} : memref<?x2xf32> into memref<?x8xf32>
      exec.rms_norm %s3 into %s3 {eps = 1.0e-06 : f64} : memref<16xi64> into memref<16xi64>
    }
    exec.dispatch "d2" {
      exec.rms_norm %s3 into %s3 {eps = 1.0e-06 : f64} : memref<16xi64> into memref<16xi64>
    }
    return
  }
}

// -----

// A scratch buffer no dispatch uses is a formation bug, not something to place.
module attributes {exec.max_chunk = 4 : i64} {
  // expected-error @+1 {{has a scratch buffer that no dispatch uses}}
  func.func @forward() {
    %s0 = exec.scratch : memref<?x8xf32>
    return
  }
}

// -----

// expected-error @+1 {{expected a forward function split into dispatches (gemc-form-dispatches)}}
module {
  func.func @forward() {
    return
  }
}
