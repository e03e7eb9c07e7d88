// RUN: gemc-opt %s | gemc-opt | FileCheck %s

// Round trip of every exec op: buffers, a dispatch, and each step.

// CHECK-LABEL: func.func @forward()
// CHECK: %[[IDS:.*]] = exec.token_ids : memref<?xi32>
// CHECK: %[[TABLE:.*]] = exec.weight "embed" {columns = 8 : i64, format = "bf16", offset = 0 : i64} : memref<16x8xbf16>
// CHECK: %[[Q:.*]] = exec.weight "gate_up" {columns = 8 : i64, format = "q4_0"} : memref<4x4x18xi8>
// CHECK: %[[SCALE:.*]] = exec.weight "scale" {columns = 1 : i64, format = "f32"} : memref<1xf32>
// CHECK: %[[K:.*]] = exec.kv_cache {layer = 0 : i64, ring_capacity = 7 : i64, values = false} : memref<?x1x4xf32>
// CHECK: %[[V:.*]] = exec.kv_cache {fixed_offset = 0 : i64, layer = 0 : i64, per_context_offset = 16 : i64, ring_capacity = 0 : i64, values = true} : memref<?x1x4xf32>
// CHECK: %[[H:.*]] = exec.scratch {offset = 64 : i64} : memref<?x8xf32>
// CHECK: %[[HEADS:.*]] = exec.scratch : memref<?x2x4xf32>
// CHECK: %[[CHOSEN:.*]] = exec.scratch : memref<?x2xi64>
// CHECK: %[[W:.*]] = exec.scratch : memref<?x2xf32>
// CHECK: %[[E:.*]] = exec.scratch : memref<?x2x4xf32>
// CHECK: %[[KV:.*]] = exec.scratch : memref<?x1x4xf32>
// CHECK: %[[LOGITS:.*]] = exec.logits : memref<?x16xf32>
// CHECK: exec.dispatch "everything" {
// CHECK-NEXT: exec.gather_rows %[[IDS]], %[[TABLE]] into %[[H]] {scale = 2.000000e+00 : f32} : memref<?xi32>, memref<16x8xbf16>, memref<?x8xf32>
// CHECK-NEXT: exec.linear %[[H]], %[[TABLE]] into %[[LOGITS]] {first_row = 0 : i64} : memref<?x8xf32>, memref<16x8xbf16> into memref<?x16xf32>
// CHECK-NEXT: exec.linear %[[H]], %[[Q]] experts(%[[CHOSEN]]) into %[[E]] {first_row = 4 : i64} : memref<?x8xf32>, memref<4x4x18xi8>, memref<?x2xi64> into memref<?x2x4xf32>
// CHECK-NEXT: exec.rms_norm %[[H]] gain(%[[TABLE]]) into %[[H]] {eps = 9.9999999999999995E-7 : f64} : memref<?x8xf32>, memref<16x8xbf16> into memref<?x8xf32>
// CHECK-NEXT: exec.elementwise ins(%[[H]] : memref<?x8xf32>) scalars(%[[SCALE]] : memref<1xf32>) outs(%[[H]] : memref<?x8xf32>) {
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[S:.*]]: f32):
// CHECK-NEXT: %[[Y:.*]] = arith.mulf %[[X]], %[[S]] : f32
// CHECK-NEXT: exec.yield %[[Y]] : f32
// CHECK-NEXT: }
// CHECK-NEXT: exec.rope %[[HEADS]] {rotated = 1 : i64, theta = 1.000000e+04 : f64} : memref<?x2x4xf32>
// CHECK-NEXT: exec.store_kv %[[KV]], %[[KV]] into %[[K]], %[[V]]
// CHECK-NEXT: exec.attend %[[HEADS]], %[[K]], %[[V]] into %[[HEADS]] {sliding_window = 4 : i64}
// CHECK-NEXT: exec.route %[[LOGITS]], %[[SCALE]] into %[[CHOSEN]], %[[W]]
// CHECK-NEXT: exec.combine_experts %[[E]], %[[W]] into %[[OUT:.*]] :
func.func @forward() {
  %ids = exec.token_ids : memref<?xi32>
  %table = exec.weight "embed" {columns = 8 : i64, format = "bf16", offset = 0 : i64} : memref<16x8xbf16>
  %q = exec.weight "gate_up" {columns = 8 : i64, format = "q4_0"} : memref<4x4x18xi8>
  %scale = exec.weight "scale" {columns = 1 : i64, format = "f32"} : memref<1xf32>
  %k = exec.kv_cache {layer = 0 : i64, values = false, ring_capacity = 7 : i64} : memref<?x1x4xf32>
  %v = exec.kv_cache {layer = 0 : i64, values = true, ring_capacity = 0 : i64, fixed_offset = 0 : i64, per_context_offset = 16 : i64} : memref<?x1x4xf32>
  %h = exec.scratch {offset = 64 : i64} : memref<?x8xf32>
  %heads = exec.scratch : memref<?x2x4xf32>
  %chosen = exec.scratch : memref<?x2xi64>
  %w = exec.scratch : memref<?x2xf32>
  %e = exec.scratch : memref<?x2x4xf32>
  %kv = exec.scratch : memref<?x1x4xf32>
  %out = exec.scratch : memref<?x4xf32>
  %logits = exec.logits : memref<?x16xf32>
  exec.dispatch "everything" {
    exec.gather_rows %ids, %table into %h {scale = 2.0 : f32} : memref<?xi32>, memref<16x8xbf16>, memref<?x8xf32>
    exec.linear %h, %table into %logits {first_row = 0 : i64} : memref<?x8xf32>, memref<16x8xbf16> into memref<?x16xf32>
    exec.linear %h, %q experts(%chosen) into %e {first_row = 4 : i64} : memref<?x8xf32>, memref<4x4x18xi8>, memref<?x2xi64> into memref<?x2x4xf32>
    exec.rms_norm %h gain(%table) into %h {eps = 1.0e-06 : f64} : memref<?x8xf32>, memref<16x8xbf16> into memref<?x8xf32>
    exec.elementwise ins(%h : memref<?x8xf32>) scalars(%scale : memref<1xf32>) outs(%h : memref<?x8xf32>) {
    ^bb0(%x: f32, %s: f32):
      %y = arith.mulf %x, %s : f32
      exec.yield %y : f32
    }
    exec.rope %heads {theta = 10000.0 : f64, rotated = 1 : i64} : memref<?x2x4xf32>
    exec.store_kv %kv, %kv into %k, %v : memref<?x1x4xf32>, memref<?x1x4xf32>, memref<?x1x4xf32>, memref<?x1x4xf32>
    exec.attend %heads, %k, %v into %heads {sliding_window = 4 : i64} : memref<?x2x4xf32>, memref<?x1x4xf32>, memref<?x1x4xf32>, memref<?x2x4xf32>
    exec.route %logits, %scale into %chosen, %w : memref<?x16xf32>, memref<1xf32>, memref<?x2xi64>, memref<?x2xf32>
    exec.combine_experts %e, %w into %out : memref<?x2x4xf32>, memref<?x2xf32>, memref<?x4xf32>
  }
  return
}
