// RUN: gemc-opt %s --split-input-file --verify-diagnostics

// One case per error the gemma verifiers (GemmaOps.cpp) and the ODS type constraints
// (GemmaOps.td) can report. Shapes follow ops.mlir: hidden 8, 2 heads of head_dim 4.

//===----------------------------------------------------------------------===//
// ODS type and attribute constraints
//===----------------------------------------------------------------------===//

// A weight must have a static shape.
func.func @weight_dynamic_shape() -> tensor<?x8xbf16> {
  // expected-error @+1 {{'gemma.weight' op result #0 must be statically shaped tensor of bfloat16 type or 16-bit float or 32-bit float values, but got 'tensor<?x8xbf16>'}}
  %0 = gemma.weight "w" : tensor<?x8xbf16>
  return %0 : tensor<?x8xbf16>
}

// -----

// A weight must have a bf16, f16 or f32 element type.
func.func @weight_integer_type() -> tensor<8xi8> {
  // expected-error @+1 {{'gemma.weight' op result #0 must be statically shaped tensor of bfloat16 type or 16-bit float or 32-bit float values, but got 'tensor<8xi8>'}}
  %0 = gemma.weight "w" : tensor<8xi8>
  return %0 : tensor<8xi8>
}

// -----

// A weight needs its name attribute.
func.func @weight_missing_name() -> tensor<8xbf16> {
  // expected-error @+1 {{'gemma.weight' op requires attribute 'name'}}
  %0 = "gemma.weight"() : () -> tensor<8xbf16>
  return %0 : tensor<8xbf16>
}

// -----

// Token ids must be i32.
func.func @embed_ids_i64(%ids: tensor<?xi64>) -> tensor<?x8xf32> {
  %table = gemma.weight "table" : tensor<16x8xbf16>
  // expected-error @+1 {{'gemma.embed' op operand #0 must be 1D tensor of 32-bit signless integer values, but got 'tensor<?xi64>'}}
  %0 = gemma.embed %ids, %table {scale = 2.0 : f32} : (tensor<?xi64>, tensor<16x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// Token ids must be 1-D.
func.func @embed_ids_rank_2(%ids: tensor<1x?xi32>) -> tensor<?x8xf32> {
  %table = gemma.weight "table" : tensor<16x8xbf16>
  // expected-error @+1 {{'gemma.embed' op operand #0 must be 1D tensor of 32-bit signless integer values, but got 'tensor<1x?xi32>'}}
  %0 = gemma.embed %ids, %table {scale = 2.0 : f32} : (tensor<1x?xi32>, tensor<16x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// An embedding table operand must be a static weight tensor, not an activation.
func.func @embed_dynamic_table(%ids: tensor<?xi32>, %table: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'gemma.embed' op operand #1 must be statically shaped tensor of bfloat16 type or 16-bit float or 32-bit float values, but got 'tensor<?x8xf32>'}}
  %0 = gemma.embed %ids, %table {scale = 2.0 : f32} : (tensor<?xi32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// Activations must be f32.
func.func @rms_norm_f16_activation(%x: tensor<?x8xf16>) -> tensor<?x8xf16> {
  // expected-error @+1 {{'gemma.rms_norm' op operand #0 must be ranked tensor of 32-bit float values, but got 'tensor<?x8xf16>'}}
  %0 = gemma.rms_norm %x {eps = 1.0e-06 : f64} : (tensor<?x8xf16>) -> tensor<?x8xf16>
  return %0 : tensor<?x8xf16>
}

// -----

// Activations must be ranked.
func.func @rms_norm_unranked(%x: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'gemma.rms_norm' op operand #0 must be ranked tensor of 32-bit float values, but got 'tensor<*xf32>'}}
  %0 = gemma.rms_norm %x {eps = 1.0e-06 : f64} : (tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// eps is an f64 attribute.
func.func @rms_norm_eps_f32(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'gemma.rms_norm' op attribute 'eps' failed to satisfy constraint: 64-bit float attribute}}
  %0 = gemma.rms_norm %x {eps = 1.0e-06 : f32} : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// Integer attributes such as layer are i64.
func.func @ple_inject_layer_i32(%h: tensor<?x8xf32>, %ple: tensor<?x2x4xf32>) -> tensor<?x8xf32> {
  %gate = gemma.weight "gate" : tensor<4x8xf16>
  %proj = gemma.weight "proj" : tensor<8x4xf16>
  // expected-error @+1 {{'gemma.ple_inject' op attribute 'layer' failed to satisfy constraint: 64-bit integer attribute}}
  %0 = gemma.ple_inject %h, %ple, %gate, %proj {layer = 1 : i32}
      : (tensor<?x8xf32>, tensor<?x2x4xf32>, tensor<4x8xf16>, tensor<8x4xf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// start_pos must be an index.
func.func @attention_start_pos_i64(%x: tensor<?x8xf32>, %pos: i64) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op operand #1 must be index, but got 'i64'}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64,
       rope = #gemma.rope<default>, rope_theta = 10000.0 : f64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, i64, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// The RoPE kind is one of the enum's cases.
func.func @attention_unknown_rope(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64,
       // expected-error @+2 {{expected ::gemc::gemma::RopeKind to be one of: default, proportional}}
       // expected-error @+1 {{failed to parse Gemma_RopeKindAttr parameter 'value'}}
       rope = #gemma.rope<yarn>, rope_theta = 10000.0 : f64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// gemma.weight
//===----------------------------------------------------------------------===//

// The checkpoint tensor name must not be empty.
func.func @weight_empty_name() -> tensor<8xbf16> {
  // expected-error @+1 {{'gemma.weight' op needs a non-empty checkpoint tensor name}}
  %0 = gemma.weight "" : tensor<8xbf16>
  return %0 : tensor<8xbf16>
}

// -----

//===----------------------------------------------------------------------===//
// gemma.embed
//===----------------------------------------------------------------------===//

// The embedding table must be 2-D.
func.func @embed_table_rank(%ids: tensor<?xi32>) -> tensor<?x8xf32> {
  %table = gemma.weight "table" : tensor<16x8x1xbf16>
  // expected-error @+1 {{'gemma.embed' op table must have rank 2, found [16, 8, 1]}}
  %0 = gemma.embed %ids, %table {scale = 2.0 : f32} : (tensor<?xi32>, tensor<16x8x1xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// The result width must be the table's hidden size.
func.func @embed_result_width(%ids: tensor<?xi32>) -> tensor<?x4xf32> {
  %table = gemma.weight "table" : tensor<16x8xbf16>
  // expected-error @+1 {{'gemma.embed' op result has shape [?, 4], expected [?, 8]}}
  %0 = gemma.embed %ids, %table {scale = 2.0 : f32} : (tensor<?xi32>, tensor<16x8xbf16>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// Static token counts of ids and result must agree.
func.func @embed_result_tokens(%ids: tensor<3xi32>) -> tensor<4x8xf32> {
  %table = gemma.weight "table" : tensor<16x8xbf16>
  // expected-error @+1 {{'gemma.embed' op result has shape [4, 8], expected [3, 8]}}
  %0 = gemma.embed %ids, %table {scale = 2.0 : f32} : (tensor<3xi32>, tensor<16x8xbf16>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// The embedding scale must be positive.
func.func @embed_scale_zero(%ids: tensor<?xi32>) -> tensor<?x8xf32> {
  %table = gemma.weight "table" : tensor<16x8xbf16>
  // expected-error @+1 {{'gemma.embed' op scale must be positive, found 0.000000e+00}}
  %0 = gemma.embed %ids, %table {scale = 0.0 : f32} : (tensor<?xi32>, tensor<16x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// gemma.rms_norm
//===----------------------------------------------------------------------===//

// The result type must equal the input type.
func.func @rms_norm_result_type(%x: tensor<?x8xf32>) -> tensor<3x8xf32> {
  // expected-error @+1 {{'gemma.rms_norm' op result type must equal the input type}}
  %0 = gemma.rms_norm %x {eps = 1.0e-06 : f64} : (tensor<?x8xf32>) -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

// A rank-0 input has no dimension to normalize over.
func.func @rms_norm_rank_0(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'gemma.rms_norm' op input must have rank >= 1}}
  %0 = gemma.rms_norm %x {eps = 1.0e-06 : f64} : (tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// The weight must match the last input dimension.
func.func @rms_norm_weight_shape(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %w = gemma.weight "norm" : tensor<4xbf16>
  // expected-error @+1 {{'gemma.rms_norm' op weight has shape [4], expected [8]}}
  %0 = gemma.rms_norm %x, %w {eps = 1.0e-06 : f64} : (tensor<?x8xf32>, tensor<4xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// eps must be positive.
func.func @rms_norm_eps_negative(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'gemma.rms_norm' op eps must be positive, found -1.000000e-06}}
  %0 = gemma.rms_norm %x {eps = -1.0e-06 : f64} : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// gemma.ple_inputs
//===----------------------------------------------------------------------===//

// embeddings must be 2-D.
func.func @ple_inputs_embeddings_rank(%ids: tensor<?xi32>, %emb: tensor<?x2x4xf32>) -> tensor<?x2x4xf32> {
  %table = gemma.weight "ple_table" : tensor<16x8xbf16>
  %proj = gemma.weight "model_projection" : tensor<8x8xbf16>
  %norm = gemma.weight "projection_norm" : tensor<4xbf16>
  // expected-error @+1 {{'gemma.ple_inputs' op embeddings must have rank 2, found [?, 2, 4]}}
  %0 = gemma.ple_inputs %ids, %emb, %table, %proj, %norm {token_scale = 2.0 : f32, eps = 1.0e-06 : f64}
      : (tensor<?xi32>, tensor<?x2x4xf32>, tensor<16x8xbf16>, tensor<8x8xbf16>, tensor<4xbf16>) -> tensor<?x2x4xf32>
  return %0 : tensor<?x2x4xf32>
}

// -----

// The result must be 3-D: [tokens, layers, width].
func.func @ple_inputs_result_rank(%ids: tensor<?xi32>, %emb: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %table = gemma.weight "ple_table" : tensor<16x8xbf16>
  %proj = gemma.weight "model_projection" : tensor<8x8xbf16>
  %norm = gemma.weight "projection_norm" : tensor<4xbf16>
  // expected-error @+1 {{'gemma.ple_inputs' op result must have rank 3, found [?, 8]}}
  %0 = gemma.ple_inputs %ids, %emb, %table, %proj, %norm {token_scale = 2.0 : f32, eps = 1.0e-06 : f64}
      : (tensor<?xi32>, tensor<?x8xf32>, tensor<16x8xbf16>, tensor<8x8xbf16>, tensor<4xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// The layer count and width of the result must be static.
func.func @ple_inputs_result_dynamic(%ids: tensor<?xi32>, %emb: tensor<?x8xf32>) -> tensor<?x?x4xf32> {
  %table = gemma.weight "ple_table" : tensor<16x8xbf16>
  %proj = gemma.weight "model_projection" : tensor<8x8xbf16>
  %norm = gemma.weight "projection_norm" : tensor<4xbf16>
  // expected-error @+1 {{'gemma.ple_inputs' op result dimensions 1 (layers) and 2 (width) must be static}}
  %0 = gemma.ple_inputs %ids, %emb, %table, %proj, %norm {token_scale = 2.0 : f32, eps = 1.0e-06 : f64}
      : (tensor<?xi32>, tensor<?x8xf32>, tensor<16x8xbf16>, tensor<8x8xbf16>, tensor<4xbf16>) -> tensor<?x?x4xf32>
  return %0 : tensor<?x?x4xf32>
}

// -----

// Static token counts of ids and embeddings must agree.
func.func @ple_inputs_embeddings_tokens(%ids: tensor<3xi32>, %emb: tensor<4x8xf32>) -> tensor<?x2x4xf32> {
  %table = gemma.weight "ple_table" : tensor<16x8xbf16>
  %proj = gemma.weight "model_projection" : tensor<8x8xbf16>
  %norm = gemma.weight "projection_norm" : tensor<4xbf16>
  // expected-error @+1 {{'gemma.ple_inputs' op embeddings has shape [4, 8], expected [3, 8]}}
  %0 = gemma.ple_inputs %ids, %emb, %table, %proj, %norm {token_scale = 2.0 : f32, eps = 1.0e-06 : f64}
      : (tensor<3xi32>, tensor<4x8xf32>, tensor<16x8xbf16>, tensor<8x8xbf16>, tensor<4xbf16>) -> tensor<?x2x4xf32>
  return %0 : tensor<?x2x4xf32>
}

// -----

// The per-layer table must have layers * width columns.
func.func @ple_inputs_table_shape(%ids: tensor<?xi32>, %emb: tensor<?x8xf32>) -> tensor<?x2x4xf32> {
  %table = gemma.weight "ple_table" : tensor<16x6xbf16>
  %proj = gemma.weight "model_projection" : tensor<8x8xbf16>
  %norm = gemma.weight "projection_norm" : tensor<4xbf16>
  // expected-error @+1 {{'gemma.ple_inputs' op ple_table has shape [16, 6], expected [?, 8]}}
  %0 = gemma.ple_inputs %ids, %emb, %table, %proj, %norm {token_scale = 2.0 : f32, eps = 1.0e-06 : f64}
      : (tensor<?xi32>, tensor<?x8xf32>, tensor<16x6xbf16>, tensor<8x8xbf16>, tensor<4xbf16>) -> tensor<?x2x4xf32>
  return %0 : tensor<?x2x4xf32>
}

// -----

// The model projection maps hidden to layers * width.
func.func @ple_inputs_projection_shape(%ids: tensor<?xi32>, %emb: tensor<?x8xf32>) -> tensor<?x2x4xf32> {
  %table = gemma.weight "ple_table" : tensor<16x8xbf16>
  %proj = gemma.weight "model_projection" : tensor<8x6xbf16>
  %norm = gemma.weight "projection_norm" : tensor<4xbf16>
  // expected-error @+1 {{'gemma.ple_inputs' op model_projection has shape [8, 6], expected [8, 8]}}
  %0 = gemma.ple_inputs %ids, %emb, %table, %proj, %norm {token_scale = 2.0 : f32, eps = 1.0e-06 : f64}
      : (tensor<?xi32>, tensor<?x8xf32>, tensor<16x8xbf16>, tensor<8x6xbf16>, tensor<4xbf16>) -> tensor<?x2x4xf32>
  return %0 : tensor<?x2x4xf32>
}

// -----

// The projection norm has the per-layer width.
func.func @ple_inputs_norm_shape(%ids: tensor<?xi32>, %emb: tensor<?x8xf32>) -> tensor<?x2x4xf32> {
  %table = gemma.weight "ple_table" : tensor<16x8xbf16>
  %proj = gemma.weight "model_projection" : tensor<8x8xbf16>
  %norm = gemma.weight "projection_norm" : tensor<8xbf16>
  // expected-error @+1 {{'gemma.ple_inputs' op projection_norm has shape [8], expected [4]}}
  %0 = gemma.ple_inputs %ids, %emb, %table, %proj, %norm {token_scale = 2.0 : f32, eps = 1.0e-06 : f64}
      : (tensor<?xi32>, tensor<?x8xf32>, tensor<16x8xbf16>, tensor<8x8xbf16>, tensor<8xbf16>) -> tensor<?x2x4xf32>
  return %0 : tensor<?x2x4xf32>
}

// -----

// Static token counts of ids and result must agree.
func.func @ple_inputs_result_tokens(%ids: tensor<3xi32>, %emb: tensor<?x8xf32>) -> tensor<4x2x4xf32> {
  %table = gemma.weight "ple_table" : tensor<16x8xbf16>
  %proj = gemma.weight "model_projection" : tensor<8x8xbf16>
  %norm = gemma.weight "projection_norm" : tensor<4xbf16>
  // expected-error @+1 {{'gemma.ple_inputs' op result has shape [4, 2, 4], expected [3, 2, 4]}}
  %0 = gemma.ple_inputs %ids, %emb, %table, %proj, %norm {token_scale = 2.0 : f32, eps = 1.0e-06 : f64}
      : (tensor<3xi32>, tensor<?x8xf32>, tensor<16x8xbf16>, tensor<8x8xbf16>, tensor<4xbf16>) -> tensor<4x2x4xf32>
  return %0 : tensor<4x2x4xf32>
}

// -----

// token_scale must be positive.
func.func @ple_inputs_token_scale(%ids: tensor<?xi32>, %emb: tensor<?x8xf32>) -> tensor<?x2x4xf32> {
  %table = gemma.weight "ple_table" : tensor<16x8xbf16>
  %proj = gemma.weight "model_projection" : tensor<8x8xbf16>
  %norm = gemma.weight "projection_norm" : tensor<4xbf16>
  // expected-error @+1 {{'gemma.ple_inputs' op token_scale must be positive, found -2.000000e+00}}
  %0 = gemma.ple_inputs %ids, %emb, %table, %proj, %norm {token_scale = -2.0 : f32, eps = 1.0e-06 : f64}
      : (tensor<?xi32>, tensor<?x8xf32>, tensor<16x8xbf16>, tensor<8x8xbf16>, tensor<4xbf16>) -> tensor<?x2x4xf32>
  return %0 : tensor<?x2x4xf32>
}

// -----

// eps must be positive.
func.func @ple_inputs_eps(%ids: tensor<?xi32>, %emb: tensor<?x8xf32>) -> tensor<?x2x4xf32> {
  %table = gemma.weight "ple_table" : tensor<16x8xbf16>
  %proj = gemma.weight "model_projection" : tensor<8x8xbf16>
  %norm = gemma.weight "projection_norm" : tensor<4xbf16>
  // expected-error @+1 {{'gemma.ple_inputs' op eps must be positive, found 0.000000e+00}}
  %0 = gemma.ple_inputs %ids, %emb, %table, %proj, %norm {token_scale = 2.0 : f32, eps = 0.0 : f64}
      : (tensor<?xi32>, tensor<?x8xf32>, tensor<16x8xbf16>, tensor<8x8xbf16>, tensor<4xbf16>) -> tensor<?x2x4xf32>
  return %0 : tensor<?x2x4xf32>
}

// -----

//===----------------------------------------------------------------------===//
// gemma.ple_inject
//===----------------------------------------------------------------------===//

// The result type must equal the hidden type.
func.func @ple_inject_result_type(%h: tensor<?x8xf32>, %ple: tensor<?x2x4xf32>) -> tensor<3x8xf32> {
  %gate = gemma.weight "input_gate" : tensor<4x8xf16>
  %proj = gemma.weight "projection" : tensor<8x4xf16>
  // expected-error @+1 {{'gemma.ple_inject' op result type must equal the hidden type}}
  %0 = gemma.ple_inject %h, %ple, %gate, %proj {layer = 1 : i64}
      : (tensor<?x8xf32>, tensor<?x2x4xf32>, tensor<4x8xf16>, tensor<8x4xf16>) -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

// hidden must be 2-D.
func.func @ple_inject_hidden_rank(%h: tensor<8xf32>, %ple: tensor<?x2x4xf32>) -> tensor<8xf32> {
  %gate = gemma.weight "input_gate" : tensor<4x8xf16>
  %proj = gemma.weight "projection" : tensor<8x4xf16>
  // expected-error @+1 {{'gemma.ple_inject' op hidden must have rank 2, found [8]}}
  %0 = gemma.ple_inject %h, %ple, %gate, %proj {layer = 1 : i64}
      : (tensor<8xf32>, tensor<?x2x4xf32>, tensor<4x8xf16>, tensor<8x4xf16>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// ple_inputs must be 3-D.
func.func @ple_inject_ple_inputs_rank(%h: tensor<?x8xf32>, %ple: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %gate = gemma.weight "input_gate" : tensor<4x8xf16>
  %proj = gemma.weight "projection" : tensor<8x4xf16>
  // expected-error @+1 {{'gemma.ple_inject' op ple_inputs must have rank 3, found [?, 8]}}
  %0 = gemma.ple_inject %h, %ple, %gate, %proj {layer = 1 : i64}
      : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<4x8xf16>, tensor<8x4xf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// Static token counts of hidden and ple_inputs must agree.
func.func @ple_inject_tokens(%h: tensor<3x8xf32>, %ple: tensor<4x2x4xf32>) -> tensor<3x8xf32> {
  %gate = gemma.weight "input_gate" : tensor<4x8xf16>
  %proj = gemma.weight "projection" : tensor<8x4xf16>
  // expected-error @+1 {{'gemma.ple_inject' op ple_inputs has shape [4, 2, 4], expected [3, 2, 4]}}
  %0 = gemma.ple_inject %h, %ple, %gate, %proj {layer = 1 : i64}
      : (tensor<3x8xf32>, tensor<4x2x4xf32>, tensor<4x8xf16>, tensor<8x4xf16>) -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

// The input gate maps hidden to the per-layer width.
func.func @ple_inject_gate_shape(%h: tensor<?x8xf32>, %ple: tensor<?x2x4xf32>) -> tensor<?x8xf32> {
  %gate = gemma.weight "input_gate" : tensor<8x4xf16>
  %proj = gemma.weight "projection" : tensor<8x4xf16>
  // expected-error @+1 {{'gemma.ple_inject' op input_gate has shape [8, 4], expected [4, 8]}}
  %0 = gemma.ple_inject %h, %ple, %gate, %proj {layer = 1 : i64}
      : (tensor<?x8xf32>, tensor<?x2x4xf32>, tensor<8x4xf16>, tensor<8x4xf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// The projection maps the per-layer width back to hidden.
func.func @ple_inject_projection_shape(%h: tensor<?x8xf32>, %ple: tensor<?x2x4xf32>) -> tensor<?x8xf32> {
  %gate = gemma.weight "input_gate" : tensor<4x8xf16>
  %proj = gemma.weight "projection" : tensor<4x8xf16>
  // expected-error @+1 {{'gemma.ple_inject' op projection has shape [4, 8], expected [8, 4]}}
  %0 = gemma.ple_inject %h, %ple, %gate, %proj {layer = 1 : i64}
      : (tensor<?x8xf32>, tensor<?x2x4xf32>, tensor<4x8xf16>, tensor<4x8xf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// layer must index one of the layers of ple_inputs.
func.func @ple_inject_layer_too_large(%h: tensor<?x8xf32>, %ple: tensor<?x2x4xf32>) -> tensor<?x8xf32> {
  %gate = gemma.weight "input_gate" : tensor<4x8xf16>
  %proj = gemma.weight "projection" : tensor<8x4xf16>
  // expected-error @+1 {{'gemma.ple_inject' op layer 2 is outside the 2 layers of ple_inputs}}
  %0 = gemma.ple_inject %h, %ple, %gate, %proj {layer = 2 : i64}
      : (tensor<?x8xf32>, tensor<?x2x4xf32>, tensor<4x8xf16>, tensor<8x4xf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// layer must not be negative.
func.func @ple_inject_layer_negative(%h: tensor<?x8xf32>, %ple: tensor<?x2x4xf32>) -> tensor<?x8xf32> {
  %gate = gemma.weight "input_gate" : tensor<4x8xf16>
  %proj = gemma.weight "projection" : tensor<8x4xf16>
  // expected-error @+1 {{'gemma.ple_inject' op layer -1 is outside the 2 layers of ple_inputs}}
  %0 = gemma.ple_inject %h, %ple, %gate, %proj {layer = -1 : i64}
      : (tensor<?x8xf32>, tensor<?x2x4xf32>, tensor<4x8xf16>, tensor<8x4xf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// gemma.attention
//===----------------------------------------------------------------------===//

// The result type must equal the input type.
func.func @attention_result_type(%x: tensor<?x8xf32>, %pos: index) -> tensor<3x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op result type must equal the input type}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

// The input must be 2-D: [tokens, hidden].
func.func @attention_input_rank(%x: tensor<8xf32>, %pos: index) -> tensor<8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op input must have rank 2, found [8]}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// layer must not be negative.
func.func @attention_layer_negative(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op layer must not be negative}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = -1 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// num_kv_heads must divide num_heads.
func.func @attention_kv_heads_not_divisor(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op num_kv_heads (3) must be positive and divide num_heads (2)}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 3 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// num_kv_heads must be positive.
func.func @attention_kv_heads_zero(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op num_kv_heads (0) must be positive and divide num_heads (2)}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 0 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// num_heads must be positive (reported by the same message).
func.func @attention_heads_zero(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op num_heads must be positive, found 0}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 0 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// head_dim must be even.
func.func @attention_head_dim_odd(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op head_dim must be positive and even, found 3}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 3 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// head_dim must be positive.
func.func @attention_head_dim_negative(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op head_dim must be positive and even, found -4}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = -4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// sliding_window must be at least 1.
func.func @attention_sliding_window_zero(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op sliding_window must be at least 1, found 0}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 0 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// eps must be positive.
func.func @attention_eps(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op eps must be positive, found 0.000000e+00}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 0.0 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// rope_theta must be positive.
func.func @attention_rope_theta(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op rope_theta must be positive, found -1.000000e+04}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = -10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// Default RoPE takes no partial_rotary_factor.
func.func @attention_default_rope_with_factor(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op partial_rotary_factor applies to proportional RoPE only}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       partial_rotary_factor = 0.25 : f64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// Proportional RoPE needs a partial_rotary_factor.
func.func @attention_proportional_rope_no_factor(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op proportional RoPE needs partial_rotary_factor in (0, 1]}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<proportional>,
       rope_theta = 10000.0 : f64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// partial_rotary_factor must be at most 1.
func.func @attention_rotary_factor_above_one(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op proportional RoPE needs partial_rotary_factor in (0, 1]}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<proportional>,
       rope_theta = 10000.0 : f64, partial_rotary_factor = 1.5 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// partial_rotary_factor must be above 0.
func.func @attention_rotary_factor_zero(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op proportional RoPE needs partial_rotary_factor in (0, 1]}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<proportional>,
       rope_theta = 10000.0 : f64, partial_rotary_factor = 0.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// q_proj maps hidden to num_heads * head_dim.
func.func @attention_q_proj_shape(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<4x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op q_proj has shape [4, 8], expected [8, 8]}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<4x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// q_norm has head_dim entries.
func.func @attention_q_norm_shape(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<8xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op q_norm has shape [8], expected [4]}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<8xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// o_proj maps num_heads * head_dim back to hidden.
func.func @attention_o_proj_shape(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x4xbf16>
  // expected-error @+1 {{'gemma.attention' op o_proj has shape [8, 4], expected [8, 8]}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x4xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// A layer has at most one attention op.
func.func @attention_duplicate_layer(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  // expected-error @+1 {{'gemma.attention' op layer 0 already has an attention op}}
  %1 = gemma.attention %0 at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %1 : tensor<?x8xf32>
}

// -----

// A KV-shared layer has no k operands.
func.func @attention_kv_shared_with_k(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  // expected-error @+1 {{'gemma.attention' op with kv_source_layer must have no k, v projections and no v_from_k}}
  %1 = gemma.attention %0 at %pos q(%q, %qn) k(%k, %kn) o(%o)
      {layer = 2 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, kv_source_layer = 0 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %1 : tensor<?x8xf32>
}

// -----

// A KV-shared layer has no v operand.
func.func @attention_kv_shared_with_v(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  // expected-error @+1 {{'gemma.attention' op with kv_source_layer must have no k, v projections and no v_from_k}}
  %1 = gemma.attention %0 at %pos q(%q, %qn) v(%v) o(%o)
      {layer = 2 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, kv_source_layer = 0 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<8x8xbf16>)
      -> tensor<?x8xf32>
  return %1 : tensor<?x8xf32>
}

// -----

// A KV-shared layer has no v_from_k.
func.func @attention_kv_shared_with_v_from_k(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  // expected-error @+1 {{'gemma.attention' op with kv_source_layer must have no k, v projections and no v_from_k}}
  %1 = gemma.attention %0 at %pos q(%q, %qn) o(%o)
      {layer = 2 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, kv_source_layer = 0 : i64, v_from_k,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<8x8xbf16>)
      -> tensor<?x8xf32>
  return %1 : tensor<?x8xf32>
}

// -----

// kv_source_layer must name an earlier layer, not the layer itself.
func.func @attention_kv_source_not_earlier(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  // expected-error @+1 {{'gemma.attention' op kv_source_layer 2 must be an earlier layer than 2}}
  %1 = gemma.attention %0 at %pos q(%q, %qn) o(%o)
      {layer = 2 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, kv_source_layer = 2 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<8x8xbf16>)
      -> tensor<?x8xf32>
  return %1 : tensor<?x8xf32>
}

// -----

// The source layer must have an attention op in the block.
func.func @attention_kv_source_missing(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op kv_source_layer 0 has no attention op before this one in the block}}
  %0 = gemma.attention %x at %pos q(%q, %qn) o(%o)
      {layer = 2 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, kv_source_layer = 0 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<8x8xbf16>)
      -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// The source layer's attention op must come before the shared one.
func.func @attention_kv_source_after(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op kv_source_layer 0 has no attention op before this one in the block}}
  %0 = gemma.attention %x at %pos q(%q, %qn) o(%o)
      {layer = 2 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, kv_source_layer = 0 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<8x8xbf16>)
      -> tensor<?x8xf32>
  %1 = gemma.attention %0 at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %1 : tensor<?x8xf32>
}

// -----

// The source layer must own its cache, not share another's.
func.func @attention_kv_source_shared(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  %1 = gemma.attention %0 at %pos q(%q, %qn) o(%o)
      {layer = 1 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, kv_source_layer = 0 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<8x8xbf16>)
      -> tensor<?x8xf32>
  // expected-error @+1 {{'gemma.attention' op kv_source_layer 1 is itself KV-shared; name the layer that owns the cache}}
  %2 = gemma.attention %1 at %pos q(%q, %qn) o(%o)
      {layer = 2 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, kv_source_layer = 1 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<8x8xbf16>)
      -> tensor<?x8xf32>
  return %2 : tensor<?x8xf32>
}

// -----

// The shared layer must have the source's num_kv_heads.
func.func @attention_kv_source_num_kv_heads(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  // expected-error @+1 {{'gemma.attention' op kv_source_layer 0 differs in num_kv_heads, head_dim or sliding_window}}
  %1 = gemma.attention %0 at %pos q(%q, %qn) o(%o)
      {layer = 2 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, kv_source_layer = 0 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<8x8xbf16>)
      -> tensor<?x8xf32>
  return %1 : tensor<?x8xf32>
}

// -----

// The shared layer must have the source's head_dim.
func.func @attention_kv_source_head_dim(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  %q2 = gemma.weight "q_proj_2" : tensor<4x8xbf16>
  %qn2 = gemma.weight "q_norm_2" : tensor<2xbf16>
  %o2 = gemma.weight "o_proj_2" : tensor<8x4xbf16>
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  // expected-error @+1 {{'gemma.attention' op kv_source_layer 0 differs in num_kv_heads, head_dim or sliding_window}}
  %1 = gemma.attention %0 at %pos q(%q2, %qn2) o(%o2)
      {layer = 2 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 2 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, kv_source_layer = 0 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<4x8xbf16>, tensor<2xbf16>, tensor<8x4xbf16>)
      -> tensor<?x8xf32>
  return %1 : tensor<?x8xf32>
}

// -----

// The shared layer must have the source's sliding_window.
func.func @attention_kv_source_sliding_window(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, sliding_window = 4 : i64, rope = #gemma.rope<default>,
       rope_theta = 10000.0 : f64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  // expected-error @+1 {{'gemma.attention' op kv_source_layer 0 differs in num_kv_heads, head_dim or sliding_window}}
  %1 = gemma.attention %0 at %pos q(%q, %qn) o(%o)
      {layer = 2 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       kv_source_layer = 0 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<8x8xbf16>)
      -> tensor<?x8xf32>
  return %1 : tensor<?x8xf32>
}

// -----

// A layer without kv_source_layer needs k_proj and k_norm.
func.func @attention_no_k(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op needs k_proj and k_norm unless kv_source_layer is set}}
  %0 = gemma.attention %x at %pos q(%q, %qn) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       v_from_k, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<8x8xbf16>)
      -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// k_proj without k_norm (only expressible in the generic form).
func.func @attention_k_proj_without_k_norm(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op needs k_proj and k_norm unless kv_source_layer is set}}
  %0 = "gemma.attention"(%x, %pos, %q, %qn, %k, %v, %o)
      <{layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64,
        rope = #gemma.rope<default>, rope_theta = 10000.0 : f64, eps = 1.0e-06 : f64,
        operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 1, 1>}>
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>,
         tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// v_proj and v_from_k exclude each other.
func.func @attention_v_proj_and_v_from_k(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op needs exactly one of a v_proj operand and the v_from_k attribute}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       v_from_k, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// A layer with its own K/V needs v_proj or v_from_k.
func.func @attention_no_v(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op needs exactly one of a v_proj operand and the v_from_k attribute}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// k_proj maps hidden to num_kv_heads * head_dim.
func.func @attention_k_proj_shape(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<8x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op k_proj has shape [8, 8], expected [4, 8]}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<8x8xbf16>, tensor<4xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// k_norm has head_dim entries.
func.func @attention_k_norm_shape(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<8xbf16>
  %v = gemma.weight "v_proj" : tensor<4x8xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op k_norm has shape [8], expected [4]}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<8xbf16>,
         tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// v_proj maps hidden to num_kv_heads * head_dim.
func.func @attention_v_proj_shape(%x: tensor<?x8xf32>, %pos: index) -> tensor<?x8xf32> {
  %q = gemma.weight "q_proj" : tensor<8x8xbf16>
  %qn = gemma.weight "q_norm" : tensor<4xbf16>
  %k = gemma.weight "k_proj" : tensor<4x8xbf16>
  %kn = gemma.weight "k_norm" : tensor<4xbf16>
  %v = gemma.weight "v_proj" : tensor<4x4xbf16>
  %o = gemma.weight "o_proj" : tensor<8x8xbf16>
  // expected-error @+1 {{'gemma.attention' op v_proj has shape [4, 4], expected [4, 8]}}
  %0 = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o)
      {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
       head_dim = 4 : i64, rope = #gemma.rope<default>, rope_theta = 10000.0 : f64,
       eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, index, tensor<8x8xbf16>, tensor<4xbf16>, tensor<4x8xbf16>, tensor<4xbf16>,
         tensor<4x4xbf16>, tensor<8x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// gemma.mlp
//===----------------------------------------------------------------------===//

// The result type must equal the input type.
func.func @mlp_result_type(%x: tensor<?x8xf32>) -> tensor<3x8xf32> {
  %gate = gemma.weight "gate_proj" : tensor<16x8xbf16>
  %up = gemma.weight "up_proj" : tensor<16x8xbf16>
  %down = gemma.weight "down_proj" : tensor<8x16xbf16>
  // expected-error @+1 {{'gemma.mlp' op result type must equal the input type}}
  %0 = gemma.mlp %x, %gate, %up, %down
      : (tensor<?x8xf32>, tensor<16x8xbf16>, tensor<16x8xbf16>, tensor<8x16xbf16>) -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

// The input must be 2-D.
func.func @mlp_input_rank(%x: tensor<8xf32>) -> tensor<8xf32> {
  %gate = gemma.weight "gate_proj" : tensor<16x8xbf16>
  %up = gemma.weight "up_proj" : tensor<16x8xbf16>
  %down = gemma.weight "down_proj" : tensor<8x16xbf16>
  // expected-error @+1 {{'gemma.mlp' op input must have rank 2, found [8]}}
  %0 = gemma.mlp %x, %gate, %up, %down
      : (tensor<8xf32>, tensor<16x8xbf16>, tensor<16x8xbf16>, tensor<8x16xbf16>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// The gate projection must be 2-D.
func.func @mlp_gate_rank(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %gate = gemma.weight "gate_proj" : tensor<128xbf16>
  %up = gemma.weight "up_proj" : tensor<16x8xbf16>
  %down = gemma.weight "down_proj" : tensor<8x16xbf16>
  // expected-error @+1 {{'gemma.mlp' op gate must have rank 2, found [128]}}
  %0 = gemma.mlp %x, %gate, %up, %down
      : (tensor<?x8xf32>, tensor<128xbf16>, tensor<16x8xbf16>, tensor<8x16xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// The gate projection reads the hidden size.
func.func @mlp_gate_shape(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %gate = gemma.weight "gate_proj" : tensor<16x4xbf16>
  %up = gemma.weight "up_proj" : tensor<16x8xbf16>
  %down = gemma.weight "down_proj" : tensor<8x16xbf16>
  // expected-error @+1 {{'gemma.mlp' op gate has shape [16, 4], expected [16, 8]}}
  %0 = gemma.mlp %x, %gate, %up, %down
      : (tensor<?x8xf32>, tensor<16x4xbf16>, tensor<16x8xbf16>, tensor<8x16xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// The up projection has the gate's shape.
func.func @mlp_up_shape(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %gate = gemma.weight "gate_proj" : tensor<16x8xbf16>
  %up = gemma.weight "up_proj" : tensor<12x8xbf16>
  %down = gemma.weight "down_proj" : tensor<8x16xbf16>
  // expected-error @+1 {{'gemma.mlp' op up has shape [12, 8], expected [16, 8]}}
  %0 = gemma.mlp %x, %gate, %up, %down
      : (tensor<?x8xf32>, tensor<16x8xbf16>, tensor<12x8xbf16>, tensor<8x16xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// The down projection maps the intermediate width back to hidden.
func.func @mlp_down_shape(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %gate = gemma.weight "gate_proj" : tensor<16x8xbf16>
  %up = gemma.weight "up_proj" : tensor<16x8xbf16>
  %down = gemma.weight "down_proj" : tensor<16x8xbf16>
  // expected-error @+1 {{'gemma.mlp' op down has shape [16, 8], expected [8, 16]}}
  %0 = gemma.mlp %x, %gate, %up, %down
      : (tensor<?x8xf32>, tensor<16x8xbf16>, tensor<16x8xbf16>, tensor<16x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// gemma.moe
//===----------------------------------------------------------------------===//

// expert_input must have router_input's type.
func.func @moe_expert_input_type(%r: tensor<?x8xf32>, %e: tensor<3x8xf32>) -> tensor<?x8xf32> {
  %rp = gemma.weight "router.proj" : tensor<4x8xbf16>
  %rs = gemma.weight "router.scale" : tensor<8xbf16>
  %pes = gemma.weight "router.per_expert_scale" : tensor<4xbf16>
  %gu = gemma.weight "experts.gate_up_proj" : tensor<4x8x8xbf16>
  %down = gemma.weight "experts.down_proj" : tensor<4x8x4xbf16>
  // expected-error @+1 {{'gemma.moe' op router_input, expert_input and result must have one type}}
  %0 = gemma.moe %r, %e router(%rp, %rs, %pes) experts(%gu, %down) {top_k = 2 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, tensor<3x8xf32>, tensor<4x8xbf16>, tensor<8xbf16>, tensor<4xbf16>,
         tensor<4x8x8xbf16>, tensor<4x8x4xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// The result must have router_input's type.
func.func @moe_result_type(%r: tensor<?x8xf32>, %e: tensor<?x8xf32>) -> tensor<3x8xf32> {
  %rp = gemma.weight "router.proj" : tensor<4x8xbf16>
  %rs = gemma.weight "router.scale" : tensor<8xbf16>
  %pes = gemma.weight "router.per_expert_scale" : tensor<4xbf16>
  %gu = gemma.weight "experts.gate_up_proj" : tensor<4x8x8xbf16>
  %down = gemma.weight "experts.down_proj" : tensor<4x8x4xbf16>
  // expected-error @+1 {{'gemma.moe' op router_input, expert_input and result must have one type}}
  %0 = gemma.moe %r, %e router(%rp, %rs, %pes) experts(%gu, %down) {top_k = 2 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<4x8xbf16>, tensor<8xbf16>, tensor<4xbf16>,
         tensor<4x8x8xbf16>, tensor<4x8x4xbf16>) -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

// router_input must be 2-D.
func.func @moe_router_input_rank(%r: tensor<8xf32>, %e: tensor<8xf32>) -> tensor<8xf32> {
  %rp = gemma.weight "router.proj" : tensor<4x8xbf16>
  %rs = gemma.weight "router.scale" : tensor<8xbf16>
  %pes = gemma.weight "router.per_expert_scale" : tensor<4xbf16>
  %gu = gemma.weight "experts.gate_up_proj" : tensor<4x8x8xbf16>
  %down = gemma.weight "experts.down_proj" : tensor<4x8x4xbf16>
  // expected-error @+1 {{'gemma.moe' op router_input must have rank 2, found [8]}}
  %0 = gemma.moe %r, %e router(%rp, %rs, %pes) experts(%gu, %down) {top_k = 2 : i64, eps = 1.0e-06 : f64}
      : (tensor<8xf32>, tensor<8xf32>, tensor<4x8xbf16>, tensor<8xbf16>, tensor<4xbf16>,
         tensor<4x8x8xbf16>, tensor<4x8x4xbf16>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// The expert down projections must be 3-D: [experts, hidden, width].
func.func @moe_down_rank(%r: tensor<?x8xf32>, %e: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %rp = gemma.weight "router.proj" : tensor<4x8xbf16>
  %rs = gemma.weight "router.scale" : tensor<8xbf16>
  %pes = gemma.weight "router.per_expert_scale" : tensor<4xbf16>
  %gu = gemma.weight "experts.gate_up_proj" : tensor<4x8x8xbf16>
  %down = gemma.weight "experts.down_proj" : tensor<8x4xbf16>
  // expected-error @+1 {{'gemma.moe' op down must have rank 3, found [8, 4]}}
  %0 = gemma.moe %r, %e router(%rp, %rs, %pes) experts(%gu, %down) {top_k = 2 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<4x8xbf16>, tensor<8xbf16>, tensor<4xbf16>,
         tensor<4x8x8xbf16>, tensor<8x4xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// The router projection maps hidden to the number of experts.
func.func @moe_router_proj_shape(%r: tensor<?x8xf32>, %e: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %rp = gemma.weight "router.proj" : tensor<8x8xbf16>
  %rs = gemma.weight "router.scale" : tensor<8xbf16>
  %pes = gemma.weight "router.per_expert_scale" : tensor<4xbf16>
  %gu = gemma.weight "experts.gate_up_proj" : tensor<4x8x8xbf16>
  %down = gemma.weight "experts.down_proj" : tensor<4x8x4xbf16>
  // expected-error @+1 {{'gemma.moe' op router_proj has shape [8, 8], expected [4, 8]}}
  %0 = gemma.moe %r, %e router(%rp, %rs, %pes) experts(%gu, %down) {top_k = 2 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<8x8xbf16>, tensor<8xbf16>, tensor<4xbf16>,
         tensor<4x8x8xbf16>, tensor<4x8x4xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// The router scale has hidden entries.
func.func @moe_router_scale_shape(%r: tensor<?x8xf32>, %e: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %rp = gemma.weight "router.proj" : tensor<4x8xbf16>
  %rs = gemma.weight "router.scale" : tensor<4xbf16>
  %pes = gemma.weight "router.per_expert_scale" : tensor<4xbf16>
  %gu = gemma.weight "experts.gate_up_proj" : tensor<4x8x8xbf16>
  %down = gemma.weight "experts.down_proj" : tensor<4x8x4xbf16>
  // expected-error @+1 {{'gemma.moe' op router_scale has shape [4], expected [8]}}
  %0 = gemma.moe %r, %e router(%rp, %rs, %pes) experts(%gu, %down) {top_k = 2 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<4x8xbf16>, tensor<4xbf16>, tensor<4xbf16>,
         tensor<4x8x8xbf16>, tensor<4x8x4xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// The per-expert scale has one entry per expert.
func.func @moe_per_expert_scale_shape(%r: tensor<?x8xf32>, %e: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %rp = gemma.weight "router.proj" : tensor<4x8xbf16>
  %rs = gemma.weight "router.scale" : tensor<8xbf16>
  %pes = gemma.weight "router.per_expert_scale" : tensor<8xbf16>
  %gu = gemma.weight "experts.gate_up_proj" : tensor<4x8x8xbf16>
  %down = gemma.weight "experts.down_proj" : tensor<4x8x4xbf16>
  // expected-error @+1 {{'gemma.moe' op per_expert_scale has shape [8], expected [4]}}
  %0 = gemma.moe %r, %e router(%rp, %rs, %pes) experts(%gu, %down) {top_k = 2 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<4x8xbf16>, tensor<8xbf16>, tensor<8xbf16>,
         tensor<4x8x8xbf16>, tensor<4x8x4xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// gate_up stacks gate and up: [experts, 2 * width, hidden].
func.func @moe_gate_up_shape(%r: tensor<?x8xf32>, %e: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %rp = gemma.weight "router.proj" : tensor<4x8xbf16>
  %rs = gemma.weight "router.scale" : tensor<8xbf16>
  %pes = gemma.weight "router.per_expert_scale" : tensor<4xbf16>
  %gu = gemma.weight "experts.gate_up_proj" : tensor<4x4x8xbf16>
  %down = gemma.weight "experts.down_proj" : tensor<4x8x4xbf16>
  // expected-error @+1 {{'gemma.moe' op gate_up has shape [4, 4, 8], expected [4, 8, 8]}}
  %0 = gemma.moe %r, %e router(%rp, %rs, %pes) experts(%gu, %down) {top_k = 2 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<4x8xbf16>, tensor<8xbf16>, tensor<4xbf16>,
         tensor<4x4x8xbf16>, tensor<4x8x4xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// The expert down projections map width back to hidden.
func.func @moe_down_shape(%r: tensor<?x8xf32>, %e: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %rp = gemma.weight "router.proj" : tensor<4x8xbf16>
  %rs = gemma.weight "router.scale" : tensor<8xbf16>
  %pes = gemma.weight "router.per_expert_scale" : tensor<4xbf16>
  %gu = gemma.weight "experts.gate_up_proj" : tensor<4x8x8xbf16>
  %down = gemma.weight "experts.down_proj" : tensor<4x6x4xbf16>
  // expected-error @+1 {{'gemma.moe' op down has shape [4, 6, 4], expected [4, 8, 4]}}
  %0 = gemma.moe %r, %e router(%rp, %rs, %pes) experts(%gu, %down) {top_k = 2 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<4x8xbf16>, tensor<8xbf16>, tensor<4xbf16>,
         tensor<4x8x8xbf16>, tensor<4x6x4xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// top_k must be at least 1.
func.func @moe_top_k_zero(%r: tensor<?x8xf32>, %e: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %rp = gemma.weight "router.proj" : tensor<4x8xbf16>
  %rs = gemma.weight "router.scale" : tensor<8xbf16>
  %pes = gemma.weight "router.per_expert_scale" : tensor<4xbf16>
  %gu = gemma.weight "experts.gate_up_proj" : tensor<4x8x8xbf16>
  %down = gemma.weight "experts.down_proj" : tensor<4x8x4xbf16>
  // expected-error @+1 {{'gemma.moe' op top_k (0) must be between 1 and the 4 experts}}
  %0 = gemma.moe %r, %e router(%rp, %rs, %pes) experts(%gu, %down) {top_k = 0 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<4x8xbf16>, tensor<8xbf16>, tensor<4xbf16>,
         tensor<4x8x8xbf16>, tensor<4x8x4xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// top_k must not exceed the number of experts.
func.func @moe_top_k_too_large(%r: tensor<?x8xf32>, %e: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %rp = gemma.weight "router.proj" : tensor<4x8xbf16>
  %rs = gemma.weight "router.scale" : tensor<8xbf16>
  %pes = gemma.weight "router.per_expert_scale" : tensor<4xbf16>
  %gu = gemma.weight "experts.gate_up_proj" : tensor<4x8x8xbf16>
  %down = gemma.weight "experts.down_proj" : tensor<4x8x4xbf16>
  // expected-error @+1 {{'gemma.moe' op top_k (5) must be between 1 and the 4 experts}}
  %0 = gemma.moe %r, %e router(%rp, %rs, %pes) experts(%gu, %down) {top_k = 5 : i64, eps = 1.0e-06 : f64}
      : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<4x8xbf16>, tensor<8xbf16>, tensor<4xbf16>,
         tensor<4x8x8xbf16>, tensor<4x8x4xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// eps must be positive.
func.func @moe_eps(%r: tensor<?x8xf32>, %e: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %rp = gemma.weight "router.proj" : tensor<4x8xbf16>
  %rs = gemma.weight "router.scale" : tensor<8xbf16>
  %pes = gemma.weight "router.per_expert_scale" : tensor<4xbf16>
  %gu = gemma.weight "experts.gate_up_proj" : tensor<4x8x8xbf16>
  %down = gemma.weight "experts.down_proj" : tensor<4x8x4xbf16>
  // expected-error @+1 {{'gemma.moe' op eps must be positive, found -1.000000e+00}}
  %0 = gemma.moe %r, %e router(%rp, %rs, %pes) experts(%gu, %down) {top_k = 2 : i64, eps = -1.0 : f64}
      : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<4x8xbf16>, tensor<8xbf16>, tensor<4xbf16>,
         tensor<4x8x8xbf16>, tensor<4x8x4xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// gemma.layer_scalar
//===----------------------------------------------------------------------===//

// The result type must equal the input type.
func.func @layer_scalar_result_type(%x: tensor<?x8xf32>) -> tensor<?x4xf32> {
  %s = gemma.weight "layer_scalar" : tensor<1xbf16>
  // expected-error @+1 {{'gemma.layer_scalar' op result type must equal the input type}}
  %0 = gemma.layer_scalar %x, %s : (tensor<?x8xf32>, tensor<1xbf16>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// The scalar is a one-element vector.
func.func @layer_scalar_shape(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %s = gemma.weight "layer_scalar" : tensor<8xbf16>
  // expected-error @+1 {{'gemma.layer_scalar' op scalar has shape [8], expected [1]}}
  %0 = gemma.layer_scalar %x, %s : (tensor<?x8xf32>, tensor<8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// gemma.lm_head
//===----------------------------------------------------------------------===//

// The input must be 2-D.
func.func @lm_head_input_rank(%x: tensor<8xf32>) -> tensor<?x16xf32> {
  %table = gemma.weight "embed_tokens" : tensor<16x8xbf16>
  // expected-error @+1 {{'gemma.lm_head' op input must have rank 2, found [8]}}
  %0 = gemma.lm_head %x, %table : (tensor<8xf32>, tensor<16x8xbf16>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

// The table must be 2-D.
func.func @lm_head_table_rank(%x: tensor<?x8xf32>) -> tensor<?x16xf32> {
  %table = gemma.weight "embed_tokens" : tensor<128xbf16>
  // expected-error @+1 {{'gemma.lm_head' op table must have rank 2, found [128]}}
  %0 = gemma.lm_head %x, %table : (tensor<?x8xf32>, tensor<128xbf16>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

// The table's rows have the input's hidden size.
func.func @lm_head_table_shape(%x: tensor<?x8xf32>) -> tensor<?x16xf32> {
  %table = gemma.weight "embed_tokens" : tensor<16x4xbf16>
  // expected-error @+1 {{'gemma.lm_head' op table has shape [16, 4], expected [?, 8]}}
  %0 = gemma.lm_head %x, %table : (tensor<?x8xf32>, tensor<16x4xbf16>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

// The result has one logit per table row.
func.func @lm_head_result_shape(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %table = gemma.weight "embed_tokens" : tensor<16x8xbf16>
  // expected-error @+1 {{'gemma.lm_head' op result has shape [?, 8], expected [?, 16]}}
  %0 = gemma.lm_head %x, %table : (tensor<?x8xf32>, tensor<16x8xbf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// Static token counts of input and result must agree.
func.func @lm_head_result_tokens(%x: tensor<3x8xf32>) -> tensor<4x16xf32> {
  %table = gemma.weight "embed_tokens" : tensor<16x8xbf16>
  // expected-error @+1 {{'gemma.lm_head' op result has shape [4, 16], expected [3, 16]}}
  %0 = gemma.lm_head %x, %table : (tensor<3x8xf32>, tensor<16x8xbf16>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// softcap, when present, must be positive.
func.func @lm_head_softcap(%x: tensor<?x8xf32>) -> tensor<?x16xf32> {
  %table = gemma.weight "embed_tokens" : tensor<16x8xbf16>
  // expected-error @+1 {{'gemma.lm_head' op softcap must be positive, found 0.000000e+00}}
  %0 = gemma.lm_head %x, %table {softcap = 0.0 : f64} : (tensor<?x8xf32>, tensor<16x8xbf16>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

// ple_inject needs the layer count and width of ple_inputs statically.
func.func @ple_inject_dynamic_layers(%h: tensor<?x8xf32>, %ple: tensor<?x?x?xf32>) -> tensor<?x8xf32> {
  %gate = gemma.weight "gate" : tensor<4x8xf16>
  %proj = gemma.weight "proj" : tensor<8x4xf16>
  // expected-error @+1 {{'gemma.ple_inject' op ple_inputs dimensions 1 (layers) and 2 (width) must be static}}
  %0 = gemma.ple_inject %h, %ple, %gate, %proj {layer = 1 : i64}
      : (tensor<?x8xf32>, tensor<?x?x?xf32>, tensor<4x8xf16>, tensor<8x4xf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// A weight's format must be one of the known ones.
func.func @weight_unknown_format() -> tensor<16x8xbf16> {
  // expected-error @+1 {{'gemma.weight' op has unknown format 'q3_k' (known: f32, bf16, f16, q8_0, q4_0, q4_1, q8_ch)}}
  %w = gemma.weight "embed_tokens" {format = "q3_k"} : tensor<16x8xbf16>
  return %w : tensor<16x8xbf16>
}

// -----

// Quantized formats work on rows: a vector cannot take one.
func.func @weight_quantized_vector() -> tensor<8xbf16> {
  // expected-error @+1 {{'gemma.weight' op format 'q8_0' quantizes rows: it needs a matrix, found [8]}}
  %w = gemma.weight "norm.weight" {format = "q8_0"} : tensor<8xbf16>
  return %w : tensor<8xbf16>
}

// -----

// int8 activations are for the integer products of quantized weights.
func.func @int8_activations_float_format() -> tensor<16x8xbf16> {
  // expected-error @+1 {{'gemma.weight' op activations 'int8' need a quantized format, not bf16}}
  %w = gemma.weight "w" {format = "bf16", activations = "int8"} : tensor<16x8xbf16>
  return %w : tensor<16x8xbf16>
}

// -----

// bf16 activations are for the bf16 products of bf16 weights.
func.func @bf16_activations_quantized() -> tensor<16x32xbf16> {
  // expected-error @+1 {{'gemma.weight' op activations 'bf16' need the bf16 format, not q4_0}}
  %w = gemma.weight "w" {format = "q4_0", activations = "bf16"} : tensor<16x32xbf16>
  return %w : tensor<16x32xbf16>
}

// -----

func.func @unknown_activations() -> tensor<16x8xf32> {
  // expected-error @+1 {{'gemma.weight' op has unknown activations 'fp8' (known: int8, bf16)}}
  %w = gemma.weight "w" {activations = "fp8"} : tensor<16x8xf32>
  return %w : tensor<16x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Media and the vision tower
//===----------------------------------------------------------------------===//

func.func @embed_media_without_placeholders(%ids: tensor<?xi32>, %media: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %table = gemma.weight "t" : tensor<16x8xbf16>
  // expected-error @+1 {{'gemma.embed' op takes media rows and placeholder ids together or neither}}
  %0 = gemma.embed %ids, %table media(%media) {scale = 1.0 : f32}
      : (tensor<?xi32>, tensor<16x8xbf16>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

func.func @mlp_clip_count(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %up = gemma.weight "up" : tensor<16x8xbf16>
  %down = gemma.weight "down" : tensor<8x16xbf16>
  %b = gemma.weight "bound" : tensor<bf16>
  // expected-error @+1 {{'gemma.mlp' op takes no clip bounds or 12 (four per projection), found 2}}
  %0 = gemma.mlp %x, %up, %up, %down clip(%b, %b)
      : (tensor<?x8xf32>, tensor<16x8xbf16>, tensor<16x8xbf16>, tensor<8x16xbf16>, tensor<bf16>,
         tensor<bf16>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

func.func @patch_embed_positions(%pixels: tensor<?x12xf32>, %xy: tensor<?x3xi32>) -> tensor<?x8xf32> {
  %proj = gemma.weight "patch" : tensor<8x12xbf16>
  %table = gemma.weight "table" : tensor<2x5x8xbf16>
  // expected-error @+1 {{'gemma.patch_embed' op positions has shape [?, 3], expected [?, 2]}}
  %x = gemma.patch_embed %pixels at %xy, %proj, %table
      : (tensor<?x12xf32>, tensor<?x3xi32>, tensor<8x12xbf16>, tensor<2x5x8xbf16>) -> tensor<?x8xf32>
  return %x : tensor<?x8xf32>
}

// -----

func.func @vision_attention_head_dim(%x: tensor<?x12xf32>, %xy: tensor<?x2xi32>) -> tensor<?x12xf32> {
  %w = gemma.weight "w" : tensor<12x12xbf16>
  %n = gemma.weight "n" : tensor<6xbf16>
  // expected-error @+1 {{'gemma.vision_attention' op needs heads >= 1 and a head_dim that is a multiple of 4, found 2 x 6}}
  %a = gemma.vision_attention %x at %xy q(%w, %n) k(%w, %n) v(%w) o(%w)
      {num_heads = 2 : i64, head_dim = 6 : i64, rope_theta = 100.0 : f64, eps = 1.0e-6 : f64}
      : (tensor<?x12xf32>, tensor<?x2xi32>, tensor<12x12xbf16>, tensor<12x12xbf16>, tensor<12x12xbf16>,
         tensor<12x12xbf16>, tensor<6xbf16>, tensor<6xbf16>) -> tensor<?x12xf32>
  return %a : tensor<?x12xf32>
}

// -----

func.func @media_projection_width(%x: tensor<?x8xf32>) -> tensor<?x6xf32> {
  %to = gemma.weight "to_text" : tensor<6x4xbf16>
  // expected-error @+1 {{'gemma.media_projection' op projection has shape [6, 4], expected [?, 8]}}
  %t = gemma.media_projection %x, %to {eps = 1.0e-6 : f64}
      : (tensor<?x8xf32>, tensor<6x4xbf16>) -> tensor<?x6xf32>
  return %t : tensor<?x6xf32>
}

// -----

func.func @audio_subsample_projection(%features: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %c0 = gemma.weight "c0" : tensor<4x1x3x3xbf16>
  %n0 = gemma.weight "n0" : tensor<4xbf16>
  %c1 = gemma.weight "c1" : tensor<3x4x3x3xbf16>
  %n1 = gemma.weight "n1" : tensor<3xbf16>
  %proj = gemma.weight "proj" : tensor<8x9xbf16>
  // expected-error @+1 {{'gemma.audio_subsample' op projection has shape [8, 9], expected [8, 6]}}
  %x = gemma.audio_subsample %features conv(%c0, %n0) conv(%c1, %n1), %proj {eps = 1.0e-6 : f64}
      : (tensor<?x8xf32>, tensor<4x1x3x3xbf16>, tensor<4xbf16>, tensor<3x4x3x3xbf16>,
         tensor<3xbf16>, tensor<8x9xbf16>) -> tensor<?x8xf32>
  return %x : tensor<?x8xf32>
}

// -----

func.func @audio_attention_heads(%x: tensor<?x9xf32>) -> tensor<?x9xf32> {
  %w = gemma.weight "w" : tensor<9x9xbf16>
  %s = gemma.weight "s" : tensor<4xbf16>
  // expected-error @+1 {{'gemma.audio_attention' op width 9 must split into 2 heads}}
  %a = gemma.audio_attention %x q(%w, %s) k(%w, %w) v(%w) o(%w)
      {num_heads = 2 : i64, window = 4 : i64, logit_cap = 50.0 : f64}
      : (tensor<?x9xf32>, tensor<9x9xbf16>, tensor<9x9xbf16>, tensor<9x9xbf16>, tensor<9x9xbf16>,
         tensor<9x9xbf16>, tensor<4xbf16>) -> tensor<?x9xf32>
  return %a : tensor<?x9xf32>
}
