// RUN: gemc-opt %s | gemc-opt | FileCheck %s

// Round trip of every gemma op. Shapes are tiny: hidden 8, 2 heads of head_dim 4, vocabulary 16.

// CHECK-LABEL: func.func @weight
// CHECK: gemma.weight "model.language_model.norm.weight" : tensor<8xbf16>
// CHECK: gemma.weight "model.language_model.layers.0.mlp.down_proj.weight" : tensor<8x16xf16>
// CHECK: gemma.weight "model.language_model.layers.0.layer_scalar" : tensor<1xf32>
// CHECK: gemma.weight "model.language_model.layers.0.mlp.up_proj.weight" {format = "q4_0"} : tensor<16x8xbf16>
func.func @weight() -> (tensor<8xbf16>, tensor<8x16xf16>, tensor<1xf32>, tensor<16x8xbf16>) {
  %0 = gemma.weight "model.language_model.norm.weight" : tensor<8xbf16>
  %1 = gemma.weight "model.language_model.layers.0.mlp.down_proj.weight" : tensor<8x16xf16>
  %2 = gemma.weight "model.language_model.layers.0.layer_scalar" : tensor<1xf32>
  %3 = gemma.weight "model.language_model.layers.0.mlp.up_proj.weight" {format = "q4_0"} : tensor<16x8xbf16>
  return %0, %1, %2, %3 : tensor<8xbf16>, tensor<8x16xf16>, tensor<1xf32>, tensor<16x8xbf16>
}

// CHECK-LABEL: func.func @embed
// CHECK-SAME: (%[[IDS:.*]]: tensor<?xi32>)
// CHECK: %[[TABLE:.*]] = gemma.weight "model.language_model.embed_tokens.weight" : tensor<16x8xbf16>
// CHECK: gemma.embed %[[IDS]], %[[TABLE]] {scale = 2.828125 : f32}
// CHECK-SAME: : (tensor<?xi32>, tensor<16x8xbf16>) -> tensor<?x8xf32>
func.func @embed(%ids: tensor<?xi32>) -> tensor<?x8xf32> {
  %table = gemma.weight "model.language_model.embed_tokens.weight" : tensor<16x8xbf16>
  %0 = gemma.embed %ids, %table {scale = 2.828125 : f32}
      : (tensor<?xi32>, tensor<16x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK: %[[W:.*]] = gemma.weight "model.language_model.norm.weight" : tensor<8xbf16>
// CHECK: %[[Y:.*]] = gemma.rms_norm %[[X]], %[[W]] {eps = 9.9999999999999995E-7 : f64}
// CHECK-SAME: : (tensor<?x8xf32>, tensor<8xbf16>) -> tensor<?x8xf32>
// CHECK: gemma.rms_norm %[[Y]] {eps = 9.9999999999999995E-7 : f64}
// CHECK-SAME: : (tensor<?x8xf32>) -> tensor<?x8xf32>
func.func @rms_norm(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %w = gemma.weight "model.language_model.norm.weight" : tensor<8xbf16>
  %0 = gemma.rms_norm %x, %w {eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, tensor<8xbf16>) -> tensor<?x8xf32>
  %1 = gemma.rms_norm %0 {eps = 1.0e-06 : f64} : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %1 : tensor<?x8xf32>
}

// 2 layers of per-layer width 4.
// CHECK-LABEL: func.func @ple_inputs
// CHECK-SAME: (%[[IDS:.*]]: tensor<?xi32>, %[[EMB:.*]]: tensor<?x8xf32>)
// CHECK: %[[TABLE:.*]] = gemma.weight "model.language_model.embed_tokens_per_layer.weight" : tensor<16x8xbf16>
// CHECK: %[[PROJ:.*]] = gemma.weight "model.language_model.per_layer_model_projection.weight" : tensor<8x8xbf16>
// CHECK: %[[NORM:.*]] = gemma.weight "model.language_model.per_layer_projection_norm.weight" : tensor<4xf32>
// CHECK: gemma.ple_inputs %[[IDS]], %[[EMB]], %[[TABLE]], %[[PROJ]], %[[NORM]]
// CHECK-SAME: {eps = 9.9999999999999995E-7 : f64, token_scale = 2.000000e+00 : f32}
// CHECK-SAME: : (tensor<?xi32>, tensor<?x8xf32>, tensor<16x8xbf16>, tensor<8x8xbf16>, tensor<4xf32>) -> tensor<?x2x4xf32>
func.func @ple_inputs(%ids: tensor<?xi32>, %emb: tensor<?x8xf32>) -> tensor<?x2x4xf32> {
  %table = gemma.weight "model.language_model.embed_tokens_per_layer.weight" : tensor<16x8xbf16>
  %proj = gemma.weight "model.language_model.per_layer_model_projection.weight" : tensor<8x8xbf16>
  %norm = gemma.weight "model.language_model.per_layer_projection_norm.weight" : tensor<4xf32>
  %0 = gemma.ple_inputs %ids, %emb, %table, %proj, %norm {token_scale = 2.0 : f32, eps = 1.0e-06 : f64}
      : (tensor<?xi32>, tensor<?x8xf32>, tensor<16x8xbf16>, tensor<8x8xbf16>, tensor<4xf32>) -> tensor<?x2x4xf32>
  return %0 : tensor<?x2x4xf32>
}

// CHECK-LABEL: func.func @ple_inject
// CHECK-SAME: (%[[H:.*]]: tensor<?x8xf32>, %[[PLE:.*]]: tensor<?x2x4xf32>)
// CHECK: %[[GATE:.*]] = gemma.weight "model.language_model.layers.1.per_layer_input_gate.weight" : tensor<4x8xf16>
// CHECK: %[[PROJ:.*]] = gemma.weight "model.language_model.layers.1.per_layer_projection.weight" : tensor<8x4xf16>
// CHECK: gemma.ple_inject %[[H]], %[[PLE]], %[[GATE]], %[[PROJ]] {layer = 1 : i64}
// CHECK-SAME: : (tensor<?x8xf32>, tensor<?x2x4xf32>, tensor<4x8xf16>, tensor<8x4xf16>) -> tensor<?x8xf32>
func.func @ple_inject(%h: tensor<?x8xf32>, %ple: tensor<?x2x4xf32>) -> tensor<?x8xf32> {
  %gate = gemma.weight "model.language_model.layers.1.per_layer_input_gate.weight" : tensor<4x8xf16>
  %proj = gemma.weight "model.language_model.layers.1.per_layer_projection.weight" : tensor<8x4xf16>
  %0 = gemma.ple_inject %h, %ple, %gate, %proj {layer = 1 : i64}
      : (tensor<?x8xf32>, tensor<?x2x4xf32>, tensor<4x8xf16>, tensor<8x4xf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// Sliding-window layer with default RoPE and its own K/V (2 query heads, 1 KV head).
// CHECK-LABEL: func.func @attention_sliding
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>, %[[POS:.*]]: index)
// CHECK: %[[Q:.*]] = gemma.weight "model.language_model.layers.0.self_attn.q_proj.weight" : tensor<8x8xbf16>
// CHECK: %[[QN:.*]] = gemma.weight "model.language_model.layers.0.self_attn.q_norm.weight" : tensor<4xbf16>
// CHECK: %[[K:.*]] = gemma.weight "model.language_model.layers.0.self_attn.k_proj.weight" : tensor<4x8xbf16>
// CHECK: %[[KN:.*]] = gemma.weight "model.language_model.layers.0.self_attn.k_norm.weight" : tensor<4xbf16>
// CHECK: %[[V:.*]] = gemma.weight "model.language_model.layers.0.self_attn.v_proj.weight" : tensor<4x8xbf16>
// CHECK: %[[O:.*]] = gemma.weight "model.language_model.layers.0.self_attn.o_proj.weight" : tensor<8x8xbf16>
// CHECK: gemma.attention %[[X]] at %[[POS]] q(%[[Q]], %[[QN]]) k(%[[K]], %[[KN]]) v(%[[V]]) o(%[[O]])
// CHECK-SAME: {eps = 9.9999999999999995E-7 : f64, head_dim = 4 : i64, layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
// CHECK-SAME: rope = #gemma.rope<default>, rope_theta = 1.000000e+04 : f64, sliding_window = 4 : i64}
// CHECK-SAME: : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
func.func @attention_sliding(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "model.language_model.layers.0.self_attn.q_proj.weight" : tensor<8x8xbf16>
  %qn = gemma.weight "model.language_model.layers.0.self_attn.q_norm.weight" : tensor<4xbf16>
  %k = gemma.weight "model.language_model.layers.0.self_attn.k_proj.weight" : tensor<4x8xbf16>
  %kn = gemma.weight "model.language_model.layers.0.self_attn.k_norm.weight" : tensor<4xbf16>
  %v = gemma.weight "model.language_model.layers.0.self_attn.v_proj.weight" : tensor<4x8xbf16>
  %o = gemma.weight "model.language_model.layers.0.self_attn.o_proj.weight" : tensor<8x8xbf16>
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64,
       sliding_window = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// Full-attention layer with proportional RoPE on a quarter of the pairs (head_dim 8, 2 KV heads).
// CHECK-LABEL: func.func @attention_full
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>, %[[POS:.*]]: index)
// CHECK: %[[Q:.*]] = gemma.weight "q_proj" : tensor<16x8xf32>
// CHECK: %[[QN:.*]] = gemma.weight "q_norm" : tensor<8xf32>
// CHECK: %[[K:.*]] = gemma.weight "k_proj" : tensor<16x8xf32>
// CHECK: %[[KN:.*]] = gemma.weight "k_norm" : tensor<8xf32>
// CHECK: %[[V:.*]] = gemma.weight "v_proj" : tensor<16x8xf32>
// CHECK: %[[O:.*]] = gemma.weight "o_proj" : tensor<8x16xf32>
// CHECK: gemma.attention %[[X]] at %[[POS]] q(%[[Q]], %[[QN]]) k(%[[K]], %[[KN]]) v(%[[V]]) o(%[[O]])
// CHECK-SAME: {eps = 9.9999999999999995E-7 : f64, head_dim = 8 : i64, layer = 5 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64,
// CHECK-SAME: partial_rotary_factor = 2.500000e-01 : f64, rope = #gemma.rope<proportional>, rope_theta = 1.000000e+06 : f64}
// CHECK-SAME: : (tensor<?x8xf32>, index, tensor<16x8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
func.func @attention_full(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<16x8xf32>
  %qn = gemma.weight "q_norm" : tensor<8xf32>
  %k = gemma.weight "k_proj" : tensor<16x8xf32>
  %kn = gemma.weight "k_norm" : tensor<8xf32>
  %v = gemma.weight "v_proj" : tensor<16x8xf32>
  %o = gemma.weight "o_proj" : tensor<8x16xf32>
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 5 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 8 : i64,
       rope = #gemma.rope<proportional>, rope_theta = 1000000.0 : f64,
       partial_rotary_factor = 0.25 : f64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<16x8xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<8xf32>,
         tensor<16x8xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// v_from_k: V is the raw K projection, so there is no v operand.
// CHECK-LABEL: func.func @attention_v_from_k
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>, %[[POS:.*]]: index)
// CHECK: %[[Q:.*]] = gemma.weight "q_proj" : tensor<8x8xf16>
// CHECK: %[[QN:.*]] = gemma.weight "q_norm" : tensor<4xf16>
// CHECK: %[[K:.*]] = gemma.weight "k_proj" : tensor<4x8xf16>
// CHECK: %[[KN:.*]] = gemma.weight "k_norm" : tensor<4xf16>
// CHECK: %[[O:.*]] = gemma.weight "o_proj" : tensor<8x8xf16>
// CHECK: gemma.attention %[[X]] at %[[POS]] q(%[[Q]], %[[QN]]) k(%[[K]], %[[KN]]) o(%[[O]])
// CHECK-SAME: {eps = 9.9999999999999995E-7 : f64, head_dim = 4 : i64, layer = 3 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
// CHECK-SAME: partial_rotary_factor = 1.000000e+00 : f64, rope = #gemma.rope<proportional>, rope_theta = 1.000000e+06 : f64, v_from_k}
// CHECK-SAME: : (tensor<?x8xf32>, index, tensor<8x8xf16>, tensor<4xf16>, tensor<4x8xf16>, tensor<4xf16>, tensor<8x8xf16>) -> tensor<?x8xf32>
func.func @attention_v_from_k(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xf16>
  %qn = gemma.weight "q_norm" : tensor<4xf16>
  %k = gemma.weight "k_proj" : tensor<4x8xf16>
  %kn = gemma.weight "k_norm" : tensor<4xf16>
  %o = gemma.weight "o_proj" : tensor<8x8xf16>
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) o(%o)
      {layer = 3 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64,
       rope = #gemma.rope<proportional>, rope_theta = 1000000.0 : f64,
       partial_rotary_factor = 1.0 : f64, v_from_k, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xf16>, tensor<4xf16>, tensor<4x8xf16>, tensor<4xf16>,
         tensor<8x8xf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// Layer 2 shares the KV cache of layer 0, which comes earlier in the same function; the shared
// layer has neither k nor v operands.
// CHECK-LABEL: func.func @attention_kv_shared
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>, %[[POS:.*]]: index)
// CHECK: %[[Q:.*]] = gemma.weight "q_proj" : tensor<8x8xbf16>
// CHECK: %[[QN:.*]] = gemma.weight "q_norm" : tensor<4xbf16>
// CHECK: %[[K:.*]] = gemma.weight "k_proj" : tensor<4x8xbf16>
// CHECK: %[[KN:.*]] = gemma.weight "k_norm" : tensor<4xbf16>
// CHECK: %[[V:.*]] = gemma.weight "v_proj" : tensor<4x8xbf16>
// CHECK: %[[O:.*]] = gemma.weight "o_proj" : tensor<8x8xbf16>
// CHECK: %[[A0:.*]] = gemma.attention %[[X]] at %[[POS]] q(%[[Q]], %[[QN]]) k(%[[K]], %[[KN]]) v(%[[V]]) o(%[[O]])
// CHECK-SAME: {eps = 9.9999999999999995E-7 : f64, head_dim = 4 : i64, layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
// CHECK-SAME: rope = #gemma.rope<default>, rope_theta = 1.000000e+04 : f64, sliding_window = 4 : i64}
// CHECK: gemma.attention %[[A0]] at %[[POS]] q(%[[Q]], %[[QN]]) o(%[[O]])
// CHECK-SAME: {eps = 9.9999999999999995E-7 : f64, head_dim = 4 : i64, kv_source_layer = 0 : i64, layer = 2 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
// CHECK-SAME: rope = #gemma.rope<default>, rope_theta = 1.000000e+04 : f64, sliding_window = 4 : i64}
// CHECK-SAME: : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
func.func @attention_kv_shared(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
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
  return %1 : tensor<?x8xf32>
}

// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK: %[[G:.*]] = gemma.weight "gate_proj" : tensor<16x8xbf16>
// CHECK: %[[U:.*]] = gemma.weight "up_proj" : tensor<16x8xbf16>
// CHECK: %[[D:.*]] = gemma.weight "down_proj" : tensor<8x16xbf16>
// CHECK: gemma.mlp %[[X]], %[[G]], %[[U]], %[[D]]
// CHECK-SAME: : (tensor<?x8xf32>, tensor<16x8xbf16>, tensor<16x8xbf16>, tensor<8x16xbf16>) -> tensor<?x8xf32>
func.func @mlp(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %gate = gemma.weight "gate_proj" : tensor<16x8xbf16>
  %up = gemma.weight "up_proj" : tensor<16x8xbf16>
  %down = gemma.weight "down_proj" : tensor<8x16xbf16>
  %0 = gemma.mlp %x, %gate, %up, %down
      : (tensor<?x8xf32>, tensor<16x8xbf16>, tensor<16x8xbf16>, tensor<8x16xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// 4 experts of width 4, top 2.
// CHECK-LABEL: func.func @moe
// CHECK-SAME: (%[[R:.*]]: tensor<?x8xf32>, %[[E:.*]]: tensor<?x8xf32>)
// CHECK: %[[RP:.*]] = gemma.weight "router.proj.weight" : tensor<4x8xbf16>
// CHECK: %[[RS:.*]] = gemma.weight "router.scale" : tensor<8xbf16>
// CHECK: %[[PES:.*]] = gemma.weight "router.per_expert_scale" : tensor<4xbf16>
// CHECK: %[[GU:.*]] = gemma.weight "experts.gate_up_proj" : tensor<4x8x8xbf16>
// CHECK: %[[D:.*]] = gemma.weight "experts.down_proj" : tensor<4x8x4xbf16>
// CHECK: gemma.moe %[[R]], %[[E]] router(%[[RP]], %[[RS]], %[[PES]]) experts(%[[GU]], %[[D]])
// CHECK-SAME: {eps = 9.9999999999999995E-7 : f64, top_k = 2 : i64}
// CHECK-SAME: : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<4x8xbf16>, tensor<8xbf16>, tensor<4xbf16>, tensor<4x8x8xbf16>, tensor<4x8x4xbf16>) -> tensor<?x8xf32>
func.func @moe(%r: tensor<?x8xf32>, %e: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %rp = gemma.weight "router.proj.weight" : tensor<4x8xbf16>
  %rs = gemma.weight "router.scale" : tensor<8xbf16>
  %pes = gemma.weight "router.per_expert_scale" : tensor<4xbf16>
  %gu = gemma.weight "experts.gate_up_proj" : tensor<4x8x8xbf16>
  %down = gemma.weight "experts.down_proj" : tensor<4x8x4xbf16>
  %0 = gemma.moe %r, %e router(%rp, %rs, %pes) experts(%gu, %down) {top_k = 2 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<4x8xbf16>, tensor<8xbf16>, tensor<4xbf16>,
         tensor<4x8x8xbf16>, tensor<4x8x4xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// CHECK-LABEL: func.func @layer_scalar
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK: %[[S:.*]] = gemma.weight "model.language_model.layers.0.layer_scalar" : tensor<1xbf16>
// CHECK: gemma.layer_scalar %[[X]], %[[S]] : (tensor<?x8xf32>, tensor<1xbf16>) -> tensor<?x8xf32>
func.func @layer_scalar(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %s = gemma.weight "model.language_model.layers.0.layer_scalar" : tensor<1xbf16>
  %0 = gemma.layer_scalar %x, %s : (tensor<?x8xf32>, tensor<1xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// CHECK-LABEL: func.func @lm_head
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK: %[[T:.*]] = gemma.weight "model.language_model.embed_tokens.weight" : tensor<16x8xbf16>
// CHECK: gemma.lm_head %[[X]], %[[T]] : (tensor<?x8xf32>, tensor<16x8xbf16>) -> tensor<?x16xf32>
// CHECK: gemma.lm_head %[[X]], %[[T]] {softcap = 3.000000e+01 : f64}
// CHECK-SAME: : (tensor<?x8xf32>, tensor<16x8xbf16>) -> tensor<?x16xf32>
func.func @lm_head(%x: tensor<?x8xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>) {
  %table = gemma.weight "model.language_model.embed_tokens.weight" : tensor<16x8xbf16>
  %0 = gemma.lm_head %x, %table : (tensor<?x8xf32>, tensor<16x8xbf16>) -> tensor<?x16xf32>
  %1 = gemma.lm_head %x, %table {softcap = 30.0 : f64}
      : (tensor<?x8xf32>, tensor<16x8xbf16>) -> tensor<?x16xf32>
  return %0, %1 : tensor<?x16xf32>, tensor<?x16xf32>
}

// The residual add is plain arith on activations.
// CHECK-LABEL: func.func @residual_add
// CHECK-SAME: (%[[A:.*]]: tensor<?x8xf32>, %[[B:.*]]: tensor<?x8xf32>)
// CHECK: arith.addf %[[A]], %[[B]] : tensor<?x8xf32>
func.func @residual_add(%a: tensor<?x8xf32>, %b: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = arith.addf %a, %b : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// Media soft tokens take the rows of their placeholder ids; PLE looks up the pad row for them.
// CHECK-LABEL: func.func @embed_media
// CHECK: gemma.embed %{{.*}}, %{{.*}} media(%{{.*}}) {placeholders = array<i32: 258880, 258881>, scale = 2.828125 : f32}
// CHECK: gemma.ple_inputs {{.*}} {eps = {{.*}}, pad_id = 0 : i64, placeholders = array<i32: 258880, 258881>, token_scale = 2.000000e+00 : f32}
func.func @embed_media(%ids: tensor<?xi32>, %media: tensor<?x8xf32>) -> tensor<?x2x4xf32> {
  %table = gemma.weight "model.language_model.embed_tokens.weight" : tensor<16x8xbf16>
  %0 = gemma.embed %ids, %table media(%media) {scale = 2.828125 : f32, placeholders = array<i32: 258880, 258881>}
      : (tensor<?xi32>, tensor<16x8xbf16>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %ple = gemma.weight "ple" : tensor<16x8xbf16>
  %proj = gemma.weight "proj" : tensor<8x8xbf16>
  %norm = gemma.weight "norm" : tensor<4xbf16>
  %1 = gemma.ple_inputs %ids, %0, %ple, %proj, %norm
      {token_scale = 2.0 : f32, eps = 1.0e-6 : f64, placeholders = array<i32: 258880, 258881>, pad_id = 0 : i64}
      : (tensor<?xi32>, tensor<?x8xf32>, tensor<16x8xbf16>, tensor<8x8xbf16>, tensor<4xbf16>) -> tensor<?x2x4xf32>
  return %1 : tensor<?x2x4xf32>
}

// The vision tower: patches (3 x 2 x 2 = 12 values) to width 8, attention with 2 heads of 4,
// a clipped MLP, 1 x 1 pooling (kernel 1), the projection to a text width of 6.
// CHECK-LABEL: func.func @vision_tower
// CHECK: gemma.patch_embed %{{.*}} at %{{.*}}, %{{.*}}, %{{.*}} :
// CHECK: gemma.vision_attention %{{.*}} at %{{.*}} q(%{{.*}}, %{{.*}}) k(%{{.*}}, %{{.*}}) v(%{{.*}}) o(%{{.*}}) {eps = {{.*}}, head_dim = 4 : i64, num_heads = 2 : i64, rope_theta = 1.000000e+02 : f64}
// CHECK: gemma.mlp %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} clip(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) :
// CHECK: gemma.vision_pool %{{.*}} at %{{.*}} {kernel = 1 : i64}
// CHECK: gemma.media_projection %{{.*}}, %{{.*}} {eps = {{.*}} : f64}
func.func @vision_tower(%pixels: tensor<?x12xf32>, %xy: tensor<?x2xi32>) -> tensor<?x6xf32> {
  %proj = gemma.weight "patch" : tensor<8x12xbf16>
  %table = gemma.weight "table" : tensor<2x5x8xbf16>
  %x = gemma.patch_embed %pixels at %xy, %proj, %table
      : (tensor<?x12xf32>, tensor<?x2xi32>, tensor<8x12xbf16>, tensor<2x5x8xbf16>) -> tensor<?x8xf32>
  %w = gemma.weight "w" : tensor<8x8xbf16>
  %n = gemma.weight "n" : tensor<4xbf16>
  %a = gemma.vision_attention %x at %xy q(%w, %n) k(%w, %n) v(%w) o(%w)
      {num_heads = 2 : i64, head_dim = 4 : i64, rope_theta = 100.0 : f64, eps = 1.0e-6 : f64}
      : (tensor<?x8xf32>, tensor<?x2xi32>, tensor<8x8xbf16>, tensor<8x8xbf16>, tensor<8x8xbf16>,
         tensor<8x8xbf16>, tensor<4xbf16>, tensor<4xbf16>) -> tensor<?x8xf32>
  %up = gemma.weight "up" : tensor<16x8xbf16>
  %down = gemma.weight "down" : tensor<8x16xbf16>
  %b = gemma.weight "bound" : tensor<bf16>
  %m = gemma.mlp %a, %up, %up, %down clip(%b, %b, %b, %b, %b, %b, %b, %b, %b, %b, %b, %b)
      : (tensor<?x8xf32>, tensor<16x8xbf16>, tensor<16x8xbf16>, tensor<8x16xbf16>, tensor<bf16>,
         tensor<bf16>, tensor<bf16>, tensor<bf16>, tensor<bf16>, tensor<bf16>, tensor<bf16>,
         tensor<bf16>, tensor<bf16>, tensor<bf16>, tensor<bf16>, tensor<bf16>) -> tensor<?x8xf32>
  %p = gemma.vision_pool %m at %xy {kernel = 1 : i64}
      : (tensor<?x8xf32>, tensor<?x2xi32>) -> tensor<?x8xf32>
  %to = gemma.weight "to_text" : tensor<6x8xbf16>
  %t = gemma.media_projection %p, %to {eps = 1.0e-6 : f64}
      : (tensor<?x8xf32>, tensor<6x8xbf16>) -> tensor<?x6xf32>
  return %t : tensor<?x6xf32>
}

// The audio tower: 8 mel bins (2 after two stride-2 steps) x 3 channels to width 8, then one
// conformer layer's steps with 2 heads, a window of 4 keys and a kernel of 3, and output_proj.
// CHECK-LABEL: func.func @audio_tower
// CHECK: gemma.audio_subsample %{{.*}} conv(%{{.*}}, %{{.*}}) conv(%{{.*}}, %{{.*}}), %{{.*}} {eps = {{.*}}}
// CHECK: gemma.audio_feed_forward %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {eps = {{.*}}, residual_weight = 5.000000e-01 : f64}
// CHECK: gemma.audio_attention %{{.*}} q(%{{.*}}, %{{.*}}) k(%{{.*}}, %{{.*}}) v(%{{.*}}) o(%{{.*}}) {logit_cap = 5.000000e+01 : f64, num_heads = 2 : i64, window = 4 : i64}
// CHECK: gemma.light_conv %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {eps = {{.*}}}
// CHECK: gemma.linear %{{.*}}, %{{.*}} bias(%{{.*}})
func.func @audio_tower(%features: tensor<?x8xf32>) -> tensor<?x6xf32> {
  %c0 = gemma.weight "c0" : tensor<4x1x3x3xbf16>
  %n0 = gemma.weight "n0" : tensor<4xbf16>
  %c1 = gemma.weight "c1" : tensor<3x4x3x3xbf16>
  %n1 = gemma.weight "n1" : tensor<3xbf16>
  %proj = gemma.weight "proj" : tensor<8x6xbf16>
  %x = gemma.audio_subsample %features conv(%c0, %n0) conv(%c1, %n1), %proj {eps = 1.0e-6 : f64}
      : (tensor<?x8xf32>, tensor<4x1x3x3xbf16>, tensor<4xbf16>, tensor<3x4x3x3xbf16>,
         tensor<3xbf16>, tensor<8x6xbf16>) -> tensor<?x8xf32>
  %g = gemma.weight "g" : tensor<8xbf16>
  %up = gemma.weight "up" : tensor<32x8xbf16>
  %down = gemma.weight "down" : tensor<8x32xbf16>
  %f = gemma.audio_feed_forward %x, %g, %up, %down, %g {residual_weight = 0.5 : f64, eps = 1.0e-6 : f64}
      : (tensor<?x8xf32>, tensor<8xbf16>, tensor<32x8xbf16>, tensor<8x32xbf16>, tensor<8xbf16>)
      -> tensor<?x8xf32>
  %w = gemma.weight "w" : tensor<8x8xbf16>
  %s = gemma.weight "s" : tensor<4xbf16>
  %a = gemma.audio_attention %f q(%w, %s) k(%w, %w) v(%w) o(%w)
      {num_heads = 2 : i64, window = 4 : i64, logit_cap = 50.0 : f64}
      : (tensor<?x8xf32>, tensor<8x8xbf16>, tensor<8x8xbf16>, tensor<8x8xbf16>, tensor<8x8xbf16>,
         tensor<8x8xbf16>, tensor<4xbf16>) -> tensor<?x8xf32>
  %start = gemma.weight "start" : tensor<16x8xbf16>
  %dw = gemma.weight "dw" : tensor<8x1x3xbf16>
  %c = gemma.light_conv %a, %g, %start, %dw, %g, %w {eps = 1.0e-6 : f64}
      : (tensor<?x8xf32>, tensor<8xbf16>, tensor<16x8xbf16>, tensor<8x1x3xbf16>, tensor<8xbf16>,
         tensor<8x8xbf16>) -> tensor<?x8xf32>
  %out = gemma.weight "out" : tensor<6x8xbf16>
  %bias = gemma.weight "bias" : tensor<6xbf16>
  %y = gemma.linear %c, %out bias(%bias)
      : (tensor<?x8xf32>, tensor<6x8xbf16>, tensor<6xbf16>) -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}
