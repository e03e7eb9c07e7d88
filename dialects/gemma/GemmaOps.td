//===- GemmaOps.td - Ops of the gemma dialect ---------------*- tablegen -*-===//
//
// Semantics are those of gemma4-architecture.md; each op's description gives its formula. The
// reference interpreter (Interpreter.cpp) executes exactly these formulas.
//
//===----------------------------------------------------------------------===//

#ifndef GEMMA_OPS
#define GEMMA_OPS

include "dialects/gemma/GemmaDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpBase.td"

class Gemma_Op<string mnemonic, list<Trait> traits = []> : Op<Gemma_Dialect, mnemonic, traits> {
  let hasVerifier = 1;
}

// Integer attributes read as int64_t (upstream I64Attr reads as uint64_t).
def Gemma_I64Attr : TypedSignlessIntegerAttrBase<I64, "int64_t", "64-bit integer attribute"> {
  let convertFromStorage = "$_self.getValue().getSExtValue()";
}

// Weights: static tensors of the checkpoint's float types.
def Gemma_WeightTensor : StaticShapeTensorOf<[BF16, F16, F32]>;
// Activations: f32 tensors; dimension 0 counts the tokens of the call.
def Gemma_Activation : RankedTensorOf<[F32]>;

def Gemma_WeightOp : Gemma_Op<"weight", [Pure]> {
  let summary = "a checkpoint tensor, referenced by name";
  let description = [{
    `%w = gemma.weight "model.language_model.norm.weight" : tensor<64xbf16>` stands for the
    checkpoint tensor of that name with that shape and element type. Its data stays in the
    checkpoint; later passes stream it into the artifact.

    `format` (dialects/gemma/WeightFormat.h) says how the compiled artifact stores it, and so
    which values it stands for: `{format = "q4_0"}` means the checkpoint's rows quantized to
    q4_0 and decoded again. Without it the weight is stored in its element type. Only matrices
    (rank >= 2) take a quantized format; rows are the last dimension.

    `activations` ("int8" for quantized formats, "bf16" for bf16): a projection by this
    weight rounds its input to those activations first (WeightFormat.h), as the dot product
    kernels compute it. Without it the input stays f32.
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<StrAttr>:$format,
                       OptionalAttr<StrAttr>:$activations);
  let results = (outs Gemma_WeightTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let extraClassDeclaration = [{
    /// The format the artifact stores this weight in: `format`, else the element type's.
    ::gemc::WeightFormat storedFormat();
    /// What a projection by this weight rounds its input to: `activations`, else f32.
    ::gemc::ActivationFormat activationFormat();
  }];
}

def Gemma_EmbedOp : Gemma_Op<"embed", [Pure]> {
  let summary = "scaled token embedding, with media soft tokens in their placeholders' rows";
  let description = [{
    `result[t] = table[ids[t]] * scale`. Gemma 4 scales by sqrt(hidden_size); the attribute
    states the exact f32 value used (Transformers rounds it to the weight dtype).

    With `placeholders` (the media token ids, which may lie outside the table) and `media`
    (one row per placeholder id of the call, in order): `result[t] = media[k]`, unscaled, for
    the k-th placeholder id of the call.
  }];
  let arguments = (ins 1DTensorOf<[I32]>:$ids, Gemma_WeightTensor:$table,
                       Optional<Gemma_Activation>:$media, F32Attr:$scale,
                       OptionalAttr<DenseI32ArrayAttr>:$placeholders);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = [{
    $ids `,` $table (`media` `(` $media^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
}

def Gemma_RMSNormOp : Gemma_Op<"rms_norm", [Pure]> {
  let summary = "RMSNorm over the last dimension, with or without a weight";
  let description = [{
    `y = x * (mean(x^2) + eps)^-0.5`, then `y * weight` when a weight is given. The weight is
    used as stored: Gemma 4 has no `1 + w` offset.
  }];
  let arguments = (ins Gemma_Activation:$input, Optional<Gemma_WeightTensor>:$weight,
                       F64Attr:$eps);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = [{
    $input (`,` $weight^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Gemma_PleInputsOp : Gemma_Op<"ple_inputs", [Pure]> {
  let summary = "per-layer embedding inputs, computed once per token before layer 0";
  let description = [{
    With L layers of width P (`result : tensor<T x L x P x f32>`):
    ```
    tok[t] = ple_table[ids[t]] * token_scale                       (reshaped to [L, P])
    ctx[t] = rms_norm(model_projection(embeddings[t]) * D^-0.5, projection_norm)  (per row)
    result[t] = (ctx[t] + tok[t]) * 2^-0.5
    ```
    `embeddings` is the scaled main embedding of width D; `token_scale` is sqrt(P). Ids in
    `placeholders` (media tokens) look up row `pad_id` of `ple_table`.
  }];
  let arguments = (ins 1DTensorOf<[I32]>:$ids, Gemma_Activation:$embeddings,
                       Gemma_WeightTensor:$ple_table, Gemma_WeightTensor:$model_projection,
                       Gemma_WeightTensor:$projection_norm, F32Attr:$token_scale, F64Attr:$eps,
                       OptionalAttr<DenseI32ArrayAttr>:$placeholders,
                       OptionalAttr<Gemma_I64Attr>:$pad_id);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = [{
    $ids `,` $embeddings `,` $ple_table `,` $model_projection `,` $projection_norm attr-dict
    `:` functional-type(operands, results)
  }];
}

def Gemma_PleInjectOp : Gemma_Op<"ple_inject", [Pure]> {
  let summary = "a layer's per-layer-embedding branch";
  let description = [{
    `result = projection(gelu_tanh(input_gate(hidden)) * ple_inputs[:, layer, :])`. The caller
    normalizes it (post_per_layer_input_norm) and adds it to the residual stream.
  }];
  let arguments = (ins Gemma_Activation:$hidden, Gemma_Activation:$ple_inputs,
                       Gemma_WeightTensor:$input_gate, Gemma_WeightTensor:$projection,
                       Gemma_I64Attr:$layer);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = [{
    $hidden `,` $ple_inputs `,` $input_gate `,` $projection attr-dict
    `:` functional-type(operands, results)
  }];
}

def Gemma_AttentionOp : Gemma_Op<"attention", [AttrSizedOperandSegments]> {
  let summary = "one layer's self-attention with its KV cache";
  let description = [{
    Computes attention for the tokens at positions `start_pos ..` and appends their K/V to the
    cache of `layer` (the op's one side effect):
    ```
    q = rope(rms_norm(q_proj(x) as [H, hd], q_norm))
    k = rope(rms_norm(k_proj(x) as [Hkv, hd], k_norm))
    v = rms_norm(v_proj(x) as [Hkv, hd])        // v_from_k: v = rms_norm(raw k_proj(x))
    o[h] = softmax_j(q[h] . k[h / (H / Hkv)][j]) v[...][j]   // scale 1.0
    result = o_proj(concat_h o[h])
    ```
    Key j is visible from query i iff j <= i, and i - j < sliding_window when the layer is a
    sliding one. RoPE rotates channel pairs (c, c + hd/2) with inv_freq[c] = theta^(-2c/hd);
    `proportional` rotates only the first int(partial_rotary_factor * hd / 2) pairs. A layer with
    `kv_source_layer` has no K/V projections: it reads the cache of that earlier layer.
  }];
  let arguments = (ins Gemma_Activation:$input, Index:$start_pos,
                       Gemma_WeightTensor:$q_proj, Gemma_WeightTensor:$q_norm,
                       Optional<Gemma_WeightTensor>:$k_proj,
                       Optional<Gemma_WeightTensor>:$k_norm,
                       Optional<Gemma_WeightTensor>:$v_proj, Gemma_WeightTensor:$o_proj,
                       Gemma_I64Attr:$layer, Gemma_I64Attr:$num_heads, Gemma_I64Attr:$num_kv_heads,
                       Gemma_I64Attr:$head_dim, OptionalAttr<Gemma_I64Attr>:$sliding_window,
                       Gemma_RopeKindAttr:$rope, F64Attr:$rope_theta,
                       OptionalAttr<F64Attr>:$partial_rotary_factor,
                       OptionalAttr<Gemma_I64Attr>:$kv_source_layer, UnitAttr:$v_from_k,
                       F64Attr:$eps);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = [{
    $input `at` $start_pos `q` `(` $q_proj `,` $q_norm `)`
    (`k` `(` $k_proj^ `,` $k_norm `)`)? (`v` `(` $v_proj^ `)`)? `o` `(` $o_proj `)`
    attr-dict `:` functional-type(operands, results)
  }];
}

// The four scalar bounds of each clipped projection (Gemma4ClippableLinear, the vision tower
// of E2B/E4B and the audio tower): input_min, input_max, output_min, output_max, per
// projection in the order the op lists its projections. A clipped projection computes
// `clamp(clamp(x, input_min, input_max) @ W^T, output_min, output_max)`.
def Gemma_ClipBounds : Variadic<Gemma_WeightTensor>;

def Gemma_MlpOp : Gemma_Op<"mlp", [Pure]> {
  let summary = "gated GELU-tanh MLP";
  let description = [{
    `result = down(gelu_tanh(gate(x)) * up(x))`. With `clip` bounds (12: gate, up, down), each
    projection is clipped.
  }];
  let arguments = (ins Gemma_Activation:$input, Gemma_WeightTensor:$gate,
                       Gemma_WeightTensor:$up, Gemma_WeightTensor:$down,
                       Gemma_ClipBounds:$clip);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = [{
    $input `,` $gate `,` $up `,` $down (`clip` `(` $clip^ `)`)? attr-dict
    `:` functional-type(operands, results)
  }];
}

def Gemma_MoeOp : Gemma_Op<"moe", [Pure]> {
  let summary = "routed experts: router, top-k, experts, per-expert scale";
  let description = [{
    ```
    z = rms_norm(router_input) * router_scale * D^-0.5       // no weight in the norm
    p = softmax(router_proj(z)); (w, idx) = top_k(p); w = w / sum(w) * per_expert_scale[idx]
    result = sum_k w_k * down[idx_k](gelu_tanh(gate_up[idx_k][:I] x) * gate_up[idx_k][I:] x)
    ```
    with `x = expert_input`. `router_input` is the residual stream after attention;
    `expert_input` is its pre_feedforward_layernorm_2. Ties in top-k go to the lower index.
  }];
  let arguments = (ins Gemma_Activation:$router_input, Gemma_Activation:$expert_input,
                       Gemma_WeightTensor:$router_proj, Gemma_WeightTensor:$router_scale,
                       Gemma_WeightTensor:$per_expert_scale, Gemma_WeightTensor:$gate_up,
                       Gemma_WeightTensor:$down, Gemma_I64Attr:$top_k, F64Attr:$eps);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = [{
    $router_input `,` $expert_input `router` `(` $router_proj `,` $router_scale `,`
    $per_expert_scale `)` `experts` `(` $gate_up `,` $down `)` attr-dict
    `:` functional-type(operands, results)
  }];
}

def Gemma_LayerScalarOp : Gemma_Op<"layer_scalar", [Pure]> {
  let summary = "scales the whole residual stream by the layer's scalar";
  let arguments = (ins Gemma_Activation:$input, Gemma_WeightTensor:$scalar);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = "$input `,` $scalar attr-dict `:` functional-type(operands, results)";
}

def Gemma_LmHeadOp : Gemma_Op<"lm_head", [Pure]> {
  let summary = "output projection with optional final logit softcap";
  let description = [{
    `logits = x @ table^T`, then `softcap * tanh(logits / softcap)` when `softcap` is set.
    Gemma 4 ties `table` to the token embedding and applies no sqrt(D) scale here.
  }];
  let arguments = (ins Gemma_Activation:$input, Gemma_WeightTensor:$table,
                       OptionalAttr<F64Attr>:$softcap);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = "$input `,` $table attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// The vision tower (gemma4-architecture.md §4). Its activations are [N, width] for the N
// patches of one image; `positions` is tensor<Nx2xi32>, each patch's (column, row).
//===----------------------------------------------------------------------===//

def Gemma_PatchEmbedOp : Gemma_Op<"patch_embed", [Pure]> {
  let summary = "patch pixels to vectors, plus the 2-D position embedding";
  let description = [{
    `result[n] = projection(2 * (pixels[n] - 0.5)) + table[0][x_n] + table[1][y_n]` for the
    patch pixels (uint8 / 255, [N, 3 * patch^2]) at `positions[n] = (x_n, y_n)`.
  }];
  let arguments = (ins Gemma_Activation:$pixels, 2DTensorOf<[I32]>:$positions,
                       Gemma_WeightTensor:$projection, Gemma_WeightTensor:$table);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = [{
    $pixels `at` $positions `,` $projection `,` $table attr-dict
    `:` functional-type(operands, results)
  }];
}

def Gemma_VisionAttentionOp : Gemma_Op<"vision_attention", [Pure]> {
  let summary = "bidirectional attention among one image's patches, with 2-D RoPE";
  let description = [{
    ```
    q = rope2d(rms_norm(q_proj(x) as [H, hd], q_norm))
    k = rope2d(rms_norm(k_proj(x) as [H, hd], k_norm))
    v = rms_norm(v_proj(x) as [H, hd])                  // no weight
    o[h] = softmax_j(q[h] . k[h][j]) v[h][j]            // every patch j, scale 1.0
    result = o_proj(concat_h o[h])
    ```
    `rope2d` rotates channels [0, hd/2) by the patch's column and [hd/2, hd) by its row, each
    half as rotate-half RoPE with inv_freq[c] = theta^(-2c / (hd/2)), c < hd/4. With `clip`
    bounds (16: q, k, v, o) each projection is clipped.
  }];
  let arguments = (ins Gemma_Activation:$input, 2DTensorOf<[I32]>:$positions,
                       Gemma_WeightTensor:$q_proj, Gemma_WeightTensor:$k_proj,
                       Gemma_WeightTensor:$v_proj, Gemma_WeightTensor:$o_proj,
                       Gemma_WeightTensor:$q_norm, Gemma_WeightTensor:$k_norm,
                       Gemma_ClipBounds:$clip, Gemma_I64Attr:$num_heads,
                       Gemma_I64Attr:$head_dim, F64Attr:$rope_theta, F64Attr:$eps);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = [{
    $input `at` $positions `q` `(` $q_proj `,` $q_norm `)` `k` `(` $k_proj `,` $k_norm `)`
    `v` `(` $v_proj `)` `o` `(` $o_proj `)` (`clip` `(` $clip^ `)`)? attr-dict
    `:` functional-type(operands, results)
  }];
}

def Gemma_VisionPoolOp : Gemma_Op<"vision_pool", [Pure, AttrSizedOperandSegments]> {
  let summary = "average of each kernel x kernel block of patches, times sqrt(width)";
  let description = [{
    Patch (x, y) goes to bucket `floor(x / k) + (W / k) * floor(y / k)` of the W-column grid
    (W = 1 + the largest x); each bucket is the sum of its patches / k^2, times sqrt(width). The
    result has the buckets in order, one row per bucket (N / k^2 rows for a full grid). With
    `std_bias` and `std_scale` (26B/31B), `(pooled - std_bias) * std_scale` follows.
  }];
  let arguments = (ins Gemma_Activation:$input, 2DTensorOf<[I32]>:$positions,
                       Optional<Gemma_WeightTensor>:$std_bias,
                       Optional<Gemma_WeightTensor>:$std_scale, Gemma_I64Attr:$kernel);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = [{
    $input `at` $positions (`standardize` `(` $std_bias^ `,` $std_scale `)`)? attr-dict
    `:` functional-type(operands, results)
  }];
}

def Gemma_MediaProjectionOp : Gemma_Op<"media_projection", [Pure]> {
  let summary = "a tower's output to the text model's width (embed_vision, embed_audio)";
  let description = [{ `result = rms_norm(x) @ projection^T`, the norm without a weight. }];
  let arguments = (ins Gemma_Activation:$input, Gemma_WeightTensor:$projection, F64Attr:$eps);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = "$input `,` $projection attr-dict `:` functional-type(operands, results)";
}

def Gemma_LinearOp : Gemma_Op<"linear", [Pure]> {
  let summary = "a plain projection, with a bias if given";
  let description = [{ `result = x @ weight^T (+ bias)` (the audio tower's output_proj). }];
  let arguments = (ins Gemma_Activation:$input, Gemma_WeightTensor:$weight,
                       Optional<Gemma_WeightTensor>:$bias);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` `(` $bias^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// The audio tower (gemma4-architecture.md §5), a conformer. Its activations are [T, width] for
// the T valid frames of one clip (padding frames are not run: every step before the output is
// causal or per frame, so they change no valid row).
//===----------------------------------------------------------------------===//

def Gemma_AudioSubsampleOp : Gemma_Op<"audio_subsample", [Pure]> {
  let summary = "log-mel frames to the conformer's width: two stride-2 convolutions";
  let description = [{
    The features [T, 128] as a one-channel image (time, mel). Twice: a 3x3 convolution with
    stride 2 and zero padding 1 (no bias), LayerNorm over the channels (a weight, no bias),
    ReLU. Then each of the T4 = ceil(ceil(T / 2) / 2) rows, [32 mel x C1 channels] with the
    channel fastest, times `projection`.
  }];
  let arguments = (ins Gemma_Activation:$features, Gemma_WeightTensor:$conv0,
                       Gemma_WeightTensor:$norm0, Gemma_WeightTensor:$conv1,
                       Gemma_WeightTensor:$norm1, Gemma_WeightTensor:$projection, F64Attr:$eps);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = [{
    $features `conv` `(` $conv0 `,` $norm0 `)` `conv` `(` $conv1 `,` $norm1 `)` `,` $projection
    attr-dict `:` functional-type(operands, results)
  }];
}

def Gemma_AudioFeedForwardOp : Gemma_Op<"audio_feed_forward", [Pure]> {
  let summary = "a conformer's half-step feed-forward block, residual included";
  let description = [{
    `result = x + residual_weight * rms_norm(down(silu(up(rms_norm(x, pre_norm)))), post_norm)`.
    With `clip` bounds (8: up, down) each projection is clipped.
  }];
  let arguments = (ins Gemma_Activation:$input, Gemma_WeightTensor:$pre_norm,
                       Gemma_WeightTensor:$up, Gemma_WeightTensor:$down,
                       Gemma_WeightTensor:$post_norm, Gemma_ClipBounds:$clip,
                       F64Attr:$residual_weight, F64Attr:$eps);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = [{
    $input `,` $pre_norm `,` $up `,` $down `,` $post_norm (`clip` `(` $clip^ `)`)? attr-dict
    `:` functional-type(operands, results)
  }];
}

def Gemma_AudioAttentionOp : Gemma_Op<"audio_attention", [Pure]> {
  let summary = "local causal attention with relative positions and capped logits";
  let description = [{
    ```
    q = q_proj(x) as [H, hd] * hd^-0.5 / ln 2 * softplus(per_dim_scale)
    k = k_proj(x) as [H, hd] * ln(1 + e) / ln 2;   v = v_proj(x) as [H, hd]
    r(d) = relative_k_proj(concat(sin(d * f), cos(d * f))) as [H, hd],
           f[m] = exp(-m ln(10^4) / (width/2 - 1)), m < width/2
    s(i, j) = cap * tanh((q_i . k_j + q_i . r(i - j)) / cap)   for i - window < j <= i
    result = post(concat_h softmax_j(s) v)
    ```
    (Transformers' blocks of `attention_chunk_size` queries give the same keys and distances.)
    With `clip` bounds (16: q, k, v, post) each of those projections is clipped.
  }];
  let arguments = (ins Gemma_Activation:$input, Gemma_WeightTensor:$q_proj,
                       Gemma_WeightTensor:$k_proj, Gemma_WeightTensor:$v_proj,
                       Gemma_WeightTensor:$post, Gemma_WeightTensor:$relative_k_proj,
                       Gemma_WeightTensor:$per_dim_scale, Gemma_ClipBounds:$clip,
                       Gemma_I64Attr:$num_heads, Gemma_I64Attr:$window, F64Attr:$logit_cap);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = [{
    $input `q` `(` $q_proj `,` $per_dim_scale `)` `k` `(` $k_proj `,` $relative_k_proj `)`
    `v` `(` $v_proj `)` `o` `(` $post `)` (`clip` `(` $clip^ `)`)? attr-dict
    `:` functional-type(operands, results)
  }];
}

def Gemma_LightConvOp : Gemma_Op<"light_conv", [Pure]> {
  let summary = "a conformer's convolution block, residual included";
  let description = [{
    ```
    g = linear_start(rms_norm(x, pre_norm));  g = g[:, :W] * sigmoid(g[:, W:])   (GLU)
    c[t] = sum_k depthwise[:, 0, k] * g[t - K + 1 + k]      (causal, zeros before the clip)
    result = x + linear_end(silu(rms_norm(c, conv_norm)))
    ```
    With `clip` bounds (8: linear_start, linear_end) each projection is clipped.
  }];
  let arguments = (ins Gemma_Activation:$input, Gemma_WeightTensor:$pre_norm,
                       Gemma_WeightTensor:$linear_start, Gemma_WeightTensor:$depthwise,
                       Gemma_WeightTensor:$conv_norm, Gemma_WeightTensor:$linear_end,
                       Gemma_ClipBounds:$clip, F64Attr:$eps);
  let results = (outs Gemma_Activation:$result);
  let assemblyFormat = [{
    $input `,` $pre_norm `,` $linear_start `,` $depthwise `,` $conv_norm `,` $linear_end
    (`clip` `(` $clip^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
}

#endif // GEMMA_OPS
