// RUN: gemc-opt %s --split-input-file --gemc-form-dispatches=max-chunk=8 --verify-diagnostics | FileCheck %s

// Dispatch formation: every value gets a buffer, every gemma op the dispatches its steps need.
// Shapes: hidden 8, vocabulary 16.

// An embedding tied to the LM head gives one weight; an MLP is three dispatches (the down
// projection reads every channel of the activation); the softcap is an elementwise body.
// CHECK-LABEL: func.func @forward() {
// CHECK: %[[IDS:.*]] = exec.token_ids : memref<?xi32>
// CHECK: %[[TABLE:.*]] = exec.weight "embed" {columns = 8 : i64, format = "bf16"} : memref<16x8xbf16>
// A q4_0 row of 8 values is one block: an f16 scale and 16 bytes of nibbles.
// CHECK: %[[GATE_W:.*]] = exec.weight "gate" {columns = 8 : i64, format = "q4_0"} : memref<16x18xi8>
// CHECK: %[[UP_W:.*]] = exec.weight "up"
// CHECK: %[[DOWN_W:.*]] = exec.weight "down" {columns = 16 : i64, format = "bf16"} : memref<8x16xbf16>
// CHECK-NOT: exec.weight
// CHECK: %[[H:.*]] = exec.scratch : memref<?x8xf32>
// CHECK: exec.dispatch "embed_0" {
// CHECK-NEXT: exec.gather_rows %[[IDS]], %[[TABLE]] into %[[H]] {scale = 2.828125 : f32}
// CHECK: %[[G:.*]] = exec.scratch : memref<?x16xf32>
// CHECK: %[[U:.*]] = exec.scratch : memref<?x16xf32>
// CHECK: %[[M:.*]] = exec.scratch : memref<?x8xf32>
// CHECK: exec.dispatch "mlp_1.gate_up" {
// CHECK-NEXT: exec.linear %[[H]], %[[GATE_W]] into %[[G]] {first_row = 0 : i64}
// CHECK-NEXT: exec.linear %[[H]], %[[UP_W]] into %[[U]] {first_row = 0 : i64}
// CHECK: exec.dispatch "mlp_1.activate" {
// CHECK-NEXT: exec.elementwise ins(%[[G]], %[[U]] : {{.*}}) outs(%[[G]] : memref<?x16xf32>)
// CHECK: math.tanh
// CHECK: exec.dispatch "mlp_1.down" {
// CHECK-NEXT: exec.linear %[[G]], %[[DOWN_W]] into %[[M]]
// CHECK: %[[LOGITS:.*]] = exec.logits : memref<?x16xf32>
// CHECK: exec.dispatch "lm_head" {
// CHECK-NEXT: exec.linear %[[M]], %[[TABLE]] into %[[LOGITS]]
// CHECK: exec.dispatch "lm_head.softcap" {
// CHECK-NEXT: exec.elementwise ins(%[[LOGITS]] : memref<?x16xf32>) outs(%[[LOGITS]] : memref<?x16xf32>) {
// CHECK: arith.constant 0.0333333351 : f32
// CHECK: math.tanh
// CHECK: arith.constant 3.000000e+01 : f32
// CHECK: return
// CHECK: module attributes {exec.max_chunk = 8 : i64}
func.func @forward(%ids: tensor<?xi32>, %pos: index) -> tensor<?x16xf32> {
  %table = gemma.weight "embed" : tensor<16x8xbf16>
  %h = gemma.embed %ids, %table {scale = 2.828125 : f32} : (tensor<?xi32>, tensor<16x8xbf16>) -> tensor<?x8xf32>
  %gate = gemma.weight "gate" {format = "q4_0"} : tensor<16x8xbf16>
  %up = gemma.weight "up" {format = "q4_0"} : tensor<16x8xbf16>
  %down = gemma.weight "down" : tensor<8x16xbf16>
  %m = gemma.mlp %h, %gate, %up, %down
      : (tensor<?x8xf32>, tensor<16x8xbf16>, tensor<16x8xbf16>, tensor<8x16xbf16>) -> tensor<?x8xf32>
  %table2 = gemma.weight "embed" : tensor<16x8xbf16>
  %logits = gemma.lm_head %m, %table2 {softcap = 30.0 : f64} : (tensor<?x8xf32>, tensor<16x8xbf16>) -> tensor<?x16xf32>
  return %logits : tensor<?x16xf32>
}

// -----

// Attention is five dispatches; a layer that shares layer 0's cache has no K/V projections,
// stores nothing and attends to layer 0's regions. A sliding layer's ring holds
// window + max_chunk - 1 positions.
// CHECK-LABEL: func.func @forward()
// CHECK: exec.dispatch "attention_0.project" {
// CHECK-NEXT: exec.linear %{{.*}}, %{{.*}} into %[[Q0:.*]] {first_row = 0 : i64} : {{.*}} into memref<?x2x4xf32>
// CHECK-NEXT: exec.linear %{{.*}}, %{{.*}} into %[[K0:.*]] {first_row = 0 : i64} : {{.*}} into memref<?x1x4xf32>
// CHECK-NEXT: exec.linear %{{.*}}, %{{.*}} into %[[V0:.*]] {first_row = 0 : i64} : {{.*}} into memref<?x1x4xf32>
// CHECK-NEXT: }
// CHECK: exec.dispatch "attention_0.norm" {
// CHECK-NEXT: exec.rms_norm %[[Q0]] gain(%{{.*}}) into %[[Q0]]
// CHECK-NEXT: exec.rms_norm %[[V0]] into %[[V0]]
// CHECK-NEXT: exec.rms_norm %[[K0]] gain(%{{.*}}) into %[[K0]]
// CHECK: %[[CK:.*]] = exec.kv_cache {layer = 0 : i64, ring_capacity = 11 : i64, values = false} : memref<?x1x4xf32>
// CHECK: %[[CV:.*]] = exec.kv_cache {layer = 0 : i64, ring_capacity = 11 : i64, values = true} : memref<?x1x4xf32>
// CHECK: exec.dispatch "attention_0.rope" {
// CHECK-NEXT: exec.rope %[[Q0]] {rotated = 2 : i64, theta = 1.000000e+04 : f64}
// CHECK-NEXT: exec.rope %[[K0]]
// CHECK-NEXT: exec.store_kv %[[K0]], %[[V0]] into %[[CK]], %[[CV]]
// CHECK: exec.dispatch "attention_0.attend" {
// CHECK-NEXT: exec.attend %[[Q0]], %[[CK]], %[[CV]] into %{{.*}} {sliding_window = 4 : i64}
// CHECK: exec.dispatch "attention_0.output" {
// CHECK: exec.dispatch "attention_2.project" {
// CHECK-NEXT: exec.linear {{.*}}
// CHECK-NEXT: }
// CHECK: exec.dispatch "attention_2.norm" {
// CHECK-NEXT: exec.rms_norm {{.*}}
// CHECK-NEXT: }
// CHECK: exec.dispatch "attention_2.rope" {
// CHECK-NEXT: exec.rope {{.*}}
// CHECK-NEXT: }
// CHECK: exec.dispatch "attention_2.attend" {
// CHECK-NEXT: exec.attend %{{.*}}, %[[CK]], %[[CV]] into
// CHECK-NOT: exec.kv_cache
func.func @forward(%ids: tensor<?xi32>, %pos: index) -> tensor<?x16xf32> {
  %table = gemma.weight "embed" : tensor<16x8xbf16>
  %x = gemma.embed %ids, %table {scale = 1.0 : f32} : (tensor<?xi32>, tensor<16x8xbf16>) -> tensor<?x8xf32>
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64,
       sliding_window = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  %1 = gemma.attention %0 at %pos q(%q, %qn) o(%o)
      {layer = 2 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64,
       sliding_window = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       kv_source_layer = 0 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<8x8xbf16>)
      -> tensor<?x8xf32>
  %logits = gemma.lm_head %1, %table : (tensor<?x8xf32>, tensor<16x8xbf16>) -> tensor<?x16xf32>
  return %logits : tensor<?x16xf32>
}

// -----

// MoE: a fixed number of dispatches whatever the token count. The experts' products pick
// their matrix per (token, slot) from the routing's chosen experts; gate and up are two bands
// of one weight.
// CHECK-LABEL: func.func @forward()
// CHECK: %[[GU:.*]] = exec.weight "experts.gate_up_proj" {{.*}} : memref<4x8x8xbf16>
// CHECK: %[[CHOSEN:.*]] = exec.scratch : memref<?x2xi64>
// CHECK: %[[WEIGHTS:.*]] = exec.scratch : memref<?x2xf32>
// CHECK: %[[G:.*]] = exec.scratch : memref<?x2x4xf32>
// CHECK: %[[U:.*]] = exec.scratch : memref<?x2x4xf32>
// CHECK: %[[EO:.*]] = exec.scratch : memref<?x2x8xf32>
// CHECK: exec.dispatch "moe_1.router_norm" {
// CHECK-NEXT: exec.rms_norm
// CHECK-NEXT: exec.elementwise
// CHECK: exec.dispatch "moe_1.router" {
// CHECK: exec.dispatch "moe_1.route" {
// CHECK-NEXT: exec.route %{{.*}}, %{{.*}} into %[[CHOSEN]], %[[WEIGHTS]]
// CHECK: exec.dispatch "moe_1.gate_up" {
// CHECK-NEXT: exec.linear %{{.*}}, %[[GU]] experts(%[[CHOSEN]]) into %[[G]] {first_row = 0 : i64}
// CHECK-NEXT: exec.linear %{{.*}}, %[[GU]] experts(%[[CHOSEN]]) into %[[U]] {first_row = 4 : i64}
// CHECK: exec.dispatch "moe_1.activate" {
// CHECK: exec.dispatch "moe_1.down" {
// CHECK-NEXT: exec.linear %[[G]], %{{.*}} experts(%[[CHOSEN]]) into %[[EO]]
// CHECK: exec.dispatch "moe_1.combine" {
// CHECK-NEXT: exec.combine_experts %[[EO]], %[[WEIGHTS]] into
func.func @forward(%ids: tensor<?xi32>, %pos: index) -> tensor<?x16xf32> {
  %table = gemma.weight "embed" : tensor<16x8xbf16>
  %x = gemma.embed %ids, %table {scale = 1.0 : f32} : (tensor<?xi32>, tensor<16x8xbf16>) -> tensor<?x8xf32>
  %rp = gemma.weight "router.proj.weight" : tensor<4x8xbf16>
  %rs = gemma.weight "router.scale" : tensor<8xbf16>
  %pes = gemma.weight "router.per_expert_scale" : tensor<4xbf16>
  %gu = gemma.weight "experts.gate_up_proj" : tensor<4x8x8xbf16>
  %down = gemma.weight "experts.down_proj" : tensor<4x8x4xbf16>
  %0 = gemma.moe %x, %x router(%rp, %rs, %pes) experts(%gu, %down) {top_k = 2 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<4x8xbf16>, tensor<8xbf16>, tensor<4xbf16>,
         tensor<4x8x8xbf16>, tensor<4x8x4xbf16>) -> tensor<?x8xf32>
  %logits = gemma.lm_head %0, %table : (tensor<?x8xf32>, tensor<16x8xbf16>) -> tensor<?x16xf32>
  return %logits : tensor<?x16xf32>
}

// -----

// The forward function must end in the LM head's logits.
func.func @forward(%ids: tensor<?xi32>, %pos: index) -> tensor<?x8xf32> {
  %table = gemma.weight "embed" : tensor<16x8xbf16>
  %x = gemma.embed %ids, %table {scale = 1.0 : f32} : (tensor<?xi32>, tensor<16x8xbf16>) -> tensor<?x8xf32>
  // expected-error @+1 {{'func.return' op must return the lm_head logits}}
  return %x : tensor<?x8xf32>
}

// -----

// Rounded activations: each input of a dispatch's int8 projections is rounded once, by a
// dispatch of its own just before (the gate and up projections share one); the expert
// projections round each slot's row of the activated gate ([T, k, K] -> [T, k, bytes]). A row
// of 8 values is one block: a 4-byte scale and 32 bytes of values. The bf16 down projection
// reads its input rounded to bf16.
// CHECK-LABEL: func.func @forward()
// CHECK: %[[H:.*]] = exec.scratch : memref<?x8xf32>
// CHECK: %[[HQ:.*]] = exec.scratch : memref<?x52xi8>
// CHECK: exec.dispatch "mlp_1.gate_up.quantize" {
// CHECK-NEXT: exec.quantize_rows %[[H]] into %[[HQ]] : memref<?x8xf32> into memref<?x52xi8>
// CHECK: exec.dispatch "mlp_1.gate_up" {
// CHECK-NEXT: exec.linear %[[HQ]], %{{.*}} into %{{.*}} {first_row = 0 : i64} : memref<?x52xi8>, memref<16x18xi8> into memref<?x16xf32>
// CHECK-NEXT: exec.linear %[[HQ]], %{{.*}} into %{{.*}} {first_row = 0 : i64} : memref<?x52xi8>, memref<16x18xi8> into memref<?x16xf32>
// CHECK: exec.dispatch "mlp_1.down.bf16" {
// CHECK-NEXT: exec.quantize_rows %{{.*}} into %[[AB:.*]] : memref<?x16xf32> into memref<?x16xbf16>
// CHECK: exec.dispatch "mlp_1.down" {
// CHECK-NEXT: exec.linear %[[AB]], %{{.*}} into %{{.*}} {first_row = 0 : i64} : memref<?x16xbf16>, memref<8x16xbf16> into memref<?x8xf32>
// CHECK: exec.dispatch "moe_2.gate_up.quantize" {
// CHECK-NEXT: exec.quantize_rows %{{.*}} into %{{.*}} : memref<?x8xf32> into memref<?x52xi8>
// CHECK: exec.dispatch "moe_2.down.quantize" {
// CHECK-NEXT: exec.quantize_rows %{{.*}} into %[[GQ:.*]] : memref<?x2x4xf32> into memref<?x2x52xi8>
// CHECK: exec.dispatch "moe_2.down" {
// CHECK-NEXT: exec.linear %[[GQ]], %{{.*}} experts(%{{.*}}) into %{{.*}} {first_row = 0 : i64} : memref<?x2x52xi8>, memref<2x8x20xi8>, memref<?x2xi64> into memref<?x2x8xf32>
func.func @forward(%ids: tensor<?xi32>, %pos: index) -> tensor<?x16xf32> {
  %table = gemma.weight "embed" : tensor<16x8xbf16>
  %h = gemma.embed %ids, %table {scale = 2.828125 : f32} : (tensor<?xi32>, tensor<16x8xbf16>) -> tensor<?x8xf32>
  %gate = gemma.weight "gate" {format = "q4_0", activations = "int8"} : tensor<16x8xbf16>
  %up = gemma.weight "up" {format = "q4_0", activations = "int8"} : tensor<16x8xbf16>
  %down = gemma.weight "down" {activations = "bf16"} : tensor<8x16xbf16>
  %m = gemma.mlp %h, %gate, %up, %down
      : (tensor<?x8xf32>, tensor<16x8xbf16>, tensor<16x8xbf16>, tensor<8x16xbf16>) -> tensor<?x8xf32>
  %router = gemma.weight "router" : tensor<2x8xbf16>
  %router_scale = gemma.weight "router_scale" : tensor<8xbf16>
  %per_expert = gemma.weight "per_expert" : tensor<2xbf16>
  %gate_up = gemma.weight "gate_up" {format = "q8_0", activations = "int8"} : tensor<2x8x8xbf16>
  %experts_down = gemma.weight "experts_down" {format = "q4_1", activations = "int8"} : tensor<2x8x4xbf16>
  %e = gemma.moe %m, %m router(%router, %router_scale, %per_expert) experts(%gate_up, %experts_down) {top_k = 2 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<2x8xbf16>, tensor<8xbf16>, tensor<2xbf16>,
         tensor<2x8x8xbf16>, tensor<2x8x4xbf16>) -> tensor<?x8xf32>
  %logits = gemma.lm_head %e, %table : (tensor<?x8xf32>, tensor<16x8xbf16>) -> tensor<?x16xf32>
  return %logits : tensor<?x16xf32>
}
