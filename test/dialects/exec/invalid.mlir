// RUN: gemc-opt %s --split-input-file --verify-diagnostics

// One case per error the exec verifiers (ExecOps.cpp) report.

func.func @weight_unknown_format() {
  // expected-error @+1 {{'exec.weight' op unknown weight format 'q3_k'}}
  %0 = exec.weight "w" {columns = 8 : i64, format = "q3_k"} : memref<4x8xi8>
  return
}

// -----

func.func @weight_float_type_mismatch() {
  // expected-error @+1 {{'exec.weight' op a bf16 weight of 8 columns must be a memref of that element type and row length}}
  %0 = exec.weight "w" {columns = 8 : i64, format = "bf16"} : memref<4x8xf16>
  return
}

// -----

func.func @weight_quantized_row_bytes() {
  // expected-error @+1 {{'exec.weight' op a q8_0 weight of 32 columns must be rows of 34 bytes (i8)}}
  %0 = exec.weight "w" {columns = 32 : i64, format = "q8_0"} : memref<4x32xi8>
  return
}

// -----

func.func @weight_dynamic() {
  // expected-error @+1 {{'exec.weight' op result #0 must be statically shaped memref of any type values}}
  %0 = exec.weight "w" {columns = 8 : i64, format = "f32"} : memref<?x8xf32>
  return
}

// -----

func.func @kv_cache_static_capacity() {
  // expected-error @+1 {{'exec.kv_cache' op must be memref<?xHxDxf32>: the capacity varies, heads and dim do not}}
  %0 = exec.kv_cache {layer = 0 : i64, values = false, ring_capacity = 4 : i64} : memref<4x1x4xf32>
  return
}

// -----

func.func @scratch_inner_dynamic() {
  // expected-error @+1 {{'exec.scratch' op only dimension 0 (the tokens) may be dynamic}}
  %0 = exec.scratch : memref<?x?xf32>
  return
}

// -----

func.func @expert_linear_rank(%x: memref<?x8xf32>, %w: memref<4x8x8xf32>, %e: memref<?x2xi64>, %out: memref<?x8xf32>) {
  // expected-error @+1 {{'exec.linear' op with experts, out must be [T, k, N] and w [E, rows, K]}}
  exec.linear %x, %w experts(%e) into %out {first_row = 0 : i64} : memref<?x8xf32>, memref<4x8x8xf32>, memref<?x2xi64> into memref<?x8xf32>
  return
}

// -----

func.func @expert_linear_slots(%x: memref<?x8xf32>, %w: memref<4x8x8xf32>, %e: memref<?x3xi64>, %out: memref<?x2x8xf32>) {
  // expected-error @+1 {{'exec.linear' op experts and out must have the same k}}
  exec.linear %x, %w experts(%e) into %out {first_row = 0 : i64} : memref<?x8xf32>, memref<4x8x8xf32>, memref<?x3xi64> into memref<?x2x8xf32>
  return
}

// -----

func.func @elementwise_arguments(%a: memref<?x8xf32>) {
  // expected-error @+1 {{'exec.elementwise' op body must take one f32 per input and per scalar}}
  exec.elementwise ins(%a : memref<?x8xf32>) outs(%a : memref<?x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    exec.yield %x : f32
  }
  return
}

// -----

func.func @elementwise_shapes(%a: memref<?x8xf32>, %b: memref<?x4xf32>) {
  // expected-error @+1 {{'exec.elementwise' op inputs must have the shape of out}}
  exec.elementwise ins(%b : memref<?x4xf32>) outs(%a : memref<?x8xf32>) {
  ^bb0(%x: f32):
    exec.yield %x : f32
  }
  return
}

// -----

func.func @elementwise_scalar(%a: memref<?x8xf32>, %s: memref<2xf32>) {
  // expected-error @+1 {{'exec.elementwise' op scalars must be one-element buffers}}
  exec.elementwise ins(%a : memref<?x8xf32>) scalars(%s : memref<2xf32>) outs(%a : memref<?x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    exec.yield %x : f32
  }
  return
}

// -----

func.func @elementwise_body(%a: memref<?x8xf32>) {
  // expected-error @+1 {{'exec.elementwise' op body may only hold arith and math ops, found memref.alloca}}
  exec.elementwise ins(%a : memref<?x8xf32>) outs(%a : memref<?x8xf32>) {
  ^bb0(%x: f32):
    %m = memref.alloca() : memref<1xf32>
    exec.yield %x : f32
  }
  return
}

// -----

func.func @rope_too_many(%h: memref<?x2x4xf32>) {
  // expected-error @+1 {{'exec.rope' op rotated must be in [0, head dim / 2] with an even head dim}}
  exec.rope %h {theta = 10000.0 : f64, rotated = 3 : i64} : memref<?x2x4xf32>
  return
}

// -----

func.func @store_kv_heads(%k: memref<?x2x4xf32>, %c: memref<?x1x4xf32>) {
  // expected-error @+1 {{'exec.store_kv' op keys, values and both caches must have the same heads and head dim}}
  exec.store_kv %k, %k into %c, %c : memref<?x2x4xf32>, memref<?x2x4xf32>, memref<?x1x4xf32>, memref<?x1x4xf32>
  return
}

// -----

func.func @attend_groups(%q: memref<?x3x4xf32>, %c: memref<?x2x4xf32>) {
  // expected-error @+1 {{'exec.attend' op query heads must be a multiple of the cache's kv heads}}
  exec.attend %q, %c, %c into %q : memref<?x3x4xf32>, memref<?x2x4xf32>, memref<?x2x4xf32>, memref<?x3x4xf32>
  return
}

// -----

func.func @attend_out(%q: memref<?x2x4xf32>, %c: memref<?x1x4xf32>, %o: memref<?x2x8xf32>) {
  // expected-error @+1 {{'exec.attend' op out must have the shape of queries}}
  exec.attend %q, %c, %c into %o : memref<?x2x4xf32>, memref<?x1x4xf32>, memref<?x1x4xf32>, memref<?x2x8xf32>
  return
}

// -----

func.func @route_shapes(%l: memref<?x4xf32>, %s: memref<4xf32>, %c: memref<?x2xi64>, %w: memref<?x3xf32>) {
  // expected-error @+1 {{'exec.route' op chosen and weights must have the same shape}}
  exec.route %l, %s into %c, %w : memref<?x4xf32>, memref<4xf32>, memref<?x2xi64>, memref<?x3xf32>
  return
}

// -----

func.func @combine_shapes(%e: memref<?x2x8xf32>, %w: memref<?x2xf32>, %o: memref<?x4xf32>) {
  // expected-error @+1 {{'exec.combine_experts' op expert_out [T, k, N] needs weights [T, k] and out [T, N]}}
  exec.combine_experts %e, %w into %o : memref<?x2x8xf32>, memref<?x2xf32>, memref<?x4xf32>
  return
}

// -----

func.func @quantize_rows_bytes(%x: memref<?x40xf32>, %out: memref<?x40xi8>) {
  // expected-error @+1 {{'exec.quantize_rows' op rows of 40 values take 104 bytes, not 40}}
  exec.quantize_rows %x into %out : memref<?x40xf32> into memref<?x40xi8>
  return
}

// -----

func.func @quantize_rows_bf16(%x: memref<?x40xf32>, %out: memref<?x72xbf16>) {
  // expected-error @+1 {{'exec.quantize_rows' op rows of 40 values take 40 bf16 values, not 72}}
  exec.quantize_rows %x into %out : memref<?x40xf32> into memref<?x72xbf16>
  return
}

// -----

func.func @linear_bf16_quantized_weight(%x: memref<?x32xbf16>, %out: memref<?x4xf32>) {
  %w = exec.weight "w" {columns = 32 : i64, format = "q8_0"} : memref<4x34xi8>
  // expected-error @+1 {{'exec.linear' op bf16 activations (exec.quantize_rows) need a bf16 w}}
  exec.linear %x, %w into %out {first_row = 0 : i64} : memref<?x32xbf16>, memref<4x34xi8> into memref<?x4xf32>
  return
}

// -----

func.func @linear_bf16_row(%x: memref<?x16xbf16>, %out: memref<?x4xf32>) {
  %w = exec.weight "w" {columns = 8 : i64, format = "bf16"} : memref<4x8xbf16>
  // expected-error @+1 {{'exec.linear' op bf16 activations of rows of 8 values must have 8 elements per row}}
  exec.linear %x, %w into %out {first_row = 0 : i64} : memref<?x16xbf16>, memref<4x8xbf16> into memref<?x4xf32>
  return
}

// -----

func.func @quantize_rows_leading(%x: memref<?x2x8xf32>, %out: memref<?x3x52xi8>) {
  // expected-error @+1 {{'exec.quantize_rows' op out and x must share their leading dimensions}}
  exec.quantize_rows %x into %out : memref<?x2x8xf32> into memref<?x3x52xi8>
  return
}

// -----

func.func @linear_int8_float_weight(%x: memref<?x52xi8>, %out: memref<?x4xf32>) {
  %w = exec.weight "w" {columns = 8 : i64, format = "bf16"} : memref<4x8xbf16>
  // expected-error @+1 {{'exec.linear' op int8 activations (exec.quantize_rows) need a quantized w}}
  exec.linear %x, %w into %out {first_row = 0 : i64} : memref<?x52xi8>, memref<4x8xbf16> into memref<?x4xf32>
  return
}

// -----

func.func @linear_int8_row_bytes(%x: memref<?x40xi8>, %out: memref<?x4xf32>) {
  %w = exec.weight "w" {columns = 8 : i64, format = "q8_0"} : memref<4x10xi8>
  // expected-error @+1 {{'exec.linear' op int8 activations of rows of 8 values must have 52 elements per row}}
  exec.linear %x, %w into %out {first_row = 0 : i64} : memref<?x40xi8>, memref<4x10xi8> into memref<?x4xf32>
  return
}
