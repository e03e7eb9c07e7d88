//===- ExecOps.td - Ops of the exec dialect ------------------*- tablegen -*-===//
//
// Three kinds of ops:
//  - buffers: `exec.weight`, `exec.kv_cache`, `exec.scratch`, `exec.token_ids`, `exec.logits`
//    name a memref in one of the five run-time buffers. Their byte placement (`offset`, ...) is
//    left out by dispatch formation and filled in by buffer planning; from then on it is the one
//    place every later stage reads it from.
//  - `exec.dispatch`: a kernel launch. Dispatches run in order, each seeing everything the
//    earlier ones wrote.
//  - steps, inside dispatches: destination-passing ops on memrefs. Steps of one dispatch run in
//    order, but a step may read what an earlier step of its dispatch wrote only in the same
//    token row (a kernel gives each token row to one workgroup for the whole dispatch); anything
//    else needs a new dispatch.
// Three values vary at run time and are implicit: T, the tokens of the call (dimension 0 of
// token-row buffers); P, the position of the first of them; C, the session's context length.
// The logits buffer has R rows, 1 <= R <= T: the caller's choice.
//
//===----------------------------------------------------------------------===//

#ifndef EXEC_OPS
#define EXEC_OPS

include "dialects/exec/ExecDialect.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Exec_Op<string mnemonic, list<Trait> traits = []> : Op<Exec_Dialect, mnemonic, traits>;

// Integer attributes read as int64_t (upstream I64Attr reads as uint64_t).
def Exec_I64Attr : TypedSignlessIntegerAttrBase<I64, "int64_t", "64-bit integer attribute"> {
  let convertFromStorage = "$_self.getValue().getSExtValue()";
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

def Exec_WeightOp : Exec_Op<"weight", [Pure]> {
  let summary = "a weight in the weight section";
  let description = [{
    `%w = exec.weight "name" {format = "q4_0", columns = 64} : memref<128x36xi8>` is the
    checkpoint tensor `name` as the artifact stores it: a memref of its element type for the
    float formats, of bytes (rows of WeightFormat.h's row layout) for the quantized ones.
    `columns` is the logical row length. `offset` is its byte offset in the weight section.
    `tile_rows` (q8_0 and q4_0 rows of whole blocks, CPU targets): the rows are stored in
    tiles of that many rows, as integer dot products read them (WeightFormat.h's row tiles);
    the memref still has the shape of the rows.
  }];
  let arguments = (ins StrAttr:$name, StrAttr:$format, Exec_I64Attr:$columns,
                       OptionalAttr<Exec_I64Attr>:$offset,
                       OptionalAttr<Exec_I64Attr>:$tile_rows);
  let results = (outs AnyStaticShapeMemRef:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::gemc::WeightFormat weightFormat();
    /// Bytes the weight takes in the section.
    uint64_t bytes();
    /// Rows (all dimensions but the last, flattened) and bytes per row.
    int64_t rows();
    uint64_t bytesPerRow();
    /// Rows per binding when one binding may hold at most `maxBytes` (0: no limit): a multiple
    /// of 64 (so every part starts 64-byte aligned), or all rows when they fit.
    int64_t rowsPerBinding(uint64_t maxBytes);
  }];
}

def Exec_KvCacheOp : Exec_Op<"kv_cache", [Pure]> {
  let summary = "the K or V region of one layer's cache";
  let description = [{
    `memref<?xHxDxf32>`: a ring of `ring_capacity` positions for a sliding layer, of C positions
    for a full one (`ring_capacity` = 0); position p lives in slot p % capacity. Placed at byte
    `fixed_offset + per_context_offset * C` of the KV buffer.
  }];
  let arguments = (ins Exec_I64Attr:$layer, BoolAttr:$values, Exec_I64Attr:$ring_capacity,
                       OptionalAttr<Exec_I64Attr>:$fixed_offset,
                       OptionalAttr<Exec_I64Attr>:$per_context_offset);
  let results = (outs MemRefRankOf<[F32], [3]>:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Bytes of one position: kv heads * head dim * 4.
    int64_t rowBytes();
  }];
}

def Exec_ScratchOp : Exec_Op<"scratch", [Pure]> {
  let summary = "a temporary in the scratch buffer";
  let description = [{
    Dimension 0 may be dynamic: it then counts the call's tokens (T), and the buffer is sized
    for the most tokens a call may take. `offset` is its byte offset in the scratch buffer.
  }];
  let arguments = (ins OptionalAttr<Exec_I64Attr>:$offset);
  let results = (outs AnyMemRef:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Bytes the buffer takes when dimension 0 holds `maxChunk` tokens.
    uint64_t bytes(int64_t maxChunk);
  }];
}

def Exec_TokenIdsOp : Exec_Op<"token_ids", [Pure]> {
  let summary = "the call's token ids, memref<?xi32> of T ids";
  let results = (outs MemRefRankOf<[I32], [1]>:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def Exec_LogitsOp : Exec_Op<"logits", [Pure]> {
  let summary = "the call's output, memref<?xVxf32> of R rows";
  let results = (outs MemRefRankOf<[F32], [2]>:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Dispatches
//===----------------------------------------------------------------------===//

def Exec_DispatchOp : Exec_Op<"dispatch", [SingleBlock, NoTerminator, NoRegionArguments]> {
  let summary = "one kernel launch: its steps, on the buffers defined outside it";
  let description = [{
    `exec.dispatch "attention_3.project" { ... }`. The name says what the kernel does; it
    becomes part of the kernel's symbol. The body holds steps and the views
    (`memref.subview`, `memref.collapse_shape`) they read through.
  }];
  let arguments = (ins StrAttr:$name);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$name attr-dict-with-keyword $body";
}

//===----------------------------------------------------------------------===//
// Steps
//===----------------------------------------------------------------------===//

def Exec_GatherRowsOp : Exec_Op<"gather_rows"> {
  let summary = "out[t] = table[ids[t]] * scale";
  let description = [{
    `table` is an `exec.weight` of rows [V, N] in any format; `out` is f32 [T, ...] with N
    values per token.
  }];
  let arguments = (ins MemRefRankOf<[I32], [1]>:$ids, AnyMemRef:$table, AnyMemRef:$out,
                       F32Attr:$scale);
  let assemblyFormat = "$ids `,` $table `into` $out attr-dict `:` type(operands)";
}

def Exec_LinearOp : Exec_Op<"linear"> {
  let summary = "out = x w^T over a band of rows of w, optionally chosen per token";
  let description = [{
    `x` may hold rounded activations (`exec.quantize_rows`, rows of K values) in place of the
    f32 values, with the same leading dimensions: int8 ones for a quantized `w`, bf16 ones
    for a bf16 `w`.
    Without `experts`: `w` has rows [..., K] (an `exec.weight`), `x` is f32 [X, K...] and `out`
    f32 [R, N...] (trailing dims flattened), R <= X:
      `out[r, o] = sum_i x[X - R + r, i] * w[first_row + o, i]`   for o < N
    so `out` may take only the last rows of `x` (the LM head does).
    With `experts` (i64 [T, k]): `w` is [E, rows, K], `out` f32 [T, k, N], `x` f32 [T, K] or
    [T, k, K]: `out[t, s, o] = sum_i x[t(, s), i] * w[experts[t, s], first_row + o, i]`.
  }];
  let arguments = (ins AnyMemRef:$x, AnyMemRef:$w, AnyMemRef:$out,
                       Optional<MemRefRankOf<[I64], [2]>>:$experts,
                       Exec_I64Attr:$first_row);
  let assemblyFormat = [{
    $x `,` $w (`experts` `(` $experts^ `)`)? `into` $out attr-dict `:` type($x) `,` type($w)
    (`,` type($experts)^)? `into` type($out)
  }];
  let hasVerifier = 1;
}

def Exec_QuantizeRowsOp : Exec_Op<"quantize_rows"> {
  let summary = "rounded activations: each row of x rounded to int8 blocks or to bf16";
  let description = [{
    `out` is [T, B] or [T, k, B]; x is f32 with the same leading dimensions and its remaining
    dimensions flattened into rows of K values. With an i8 `out`, each row becomes
    activationRowBytes(K) = B bytes of int8 activations as WeightFormat.h describes: what a
    projection with a quantized weight reads instead of its f32 input. With a bf16 `out`,
    each value is rounded to bf16 (B = K): what a projection with a bf16 weight reads.
  }];
  let arguments = (ins AnyMemRef:$x, MemRefOf<[I8, BF16]>:$out);
  let assemblyFormat = "$x `into` $out attr-dict `:` type($x) `into` type($out)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// K: the values of a row.
    int64_t columns();
  }];
}

def Exec_RmsNormOp : Exec_Op<"rms_norm"> {
  let summary = "RMSNorm of every row of the last dimension, times gain if given";
  let description = [{ `dst[r] = src[r] * (mean(src[r]^2) + eps)^-0.5 (* gain)`; dst may be src. }];
  let arguments = (ins AnyMemRef:$src, Optional<AnyMemRef>:$gain, AnyMemRef:$dst, F64Attr:$eps);
  let assemblyFormat = [{
    $src (`gain` `(` $gain^ `)`)? `into` $dst attr-dict `:` type($src) (`,` type($gain)^)?
    `into` type($dst)
  }];
}

def Exec_YieldOp : Exec_Op<"yield", [Pure, Terminator, HasParent<"ElementwiseOp">]> {
  let summary = "the value an elementwise body computes";
  let arguments = (ins F32:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

def Exec_ElementwiseOp : Exec_Op<"elementwise", [AttrSizedOperandSegments, SingleBlock]> {
  let summary = "out[i] = body(inputs[i]..., scalars[0]...) for every element";
  let description = [{
    `inputs` and `out` are f32 buffers of the same shape (views allowed); each `scalars` operand
    is a one-element buffer of a float type, read once. The body takes one f32 per input, then
    one per scalar, and yields out[i] with arith and math ops only, so every target can
    evaluate it on scalars or on vectors. `out` may be one of the inputs.
  }];
  let arguments = (ins Variadic<AnyMemRef>:$inputs, Variadic<AnyMemRef>:$scalars,
                       AnyMemRef:$out);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `ins` `(` $inputs `:` type($inputs) `)` (`scalars` `(` $scalars^ `:` type($scalars) `)`)?
    `outs` `(` $out `:` type($out) `)` $body attr-dict
  }];
  let hasVerifier = 1;
}

def Exec_RopeOp : Exec_Op<"rope"> {
  let summary = "rotate-half RoPE of f32 [T, heads, D] in place, token t at position P + t";
  let description = [{
    Rotates channel pairs (c, c + D/2) for c < `rotated` by the angle (P + t) * theta^(-2c/D).
  }];
  let arguments = (ins MemRefRankOf<[F32], [3]>:$heads, F64Attr:$theta, Exec_I64Attr:$rotated);
  let assemblyFormat = "$heads attr-dict `:` type($heads)";
  let hasVerifier = 1;
}

def Exec_StoreKvOp : Exec_Op<"store_kv"> {
  let summary = "writes the call's K and V rows into a layer's cache";
  let description = [{ `cache_k[(P + t) % capacity] = keys[t]`, and the same for values. }];
  let arguments = (ins MemRefRankOf<[F32], [3]>:$keys, MemRefRankOf<[F32], [3]>:$values,
                       MemRefRankOf<[F32], [3]>:$cache_k, MemRefRankOf<[F32], [3]>:$cache_v);
  let assemblyFormat = [{
    $keys `,` $values `into` $cache_k `,` $cache_v attr-dict `:` type(operands)
  }];
  let hasVerifier = 1;
}

def Exec_AttendOp : Exec_Op<"attend"> {
  let summary = "causal (optionally sliding) softmax attention against a cache";
  let description = [{
    For query t at position P + t and head h (kv head h / (H / Hkv)), over the visible
    positions j (j <= P + t, and P + t - j < sliding_window if set):
      `out[t, h] = sum_j softmax_j(q[t, h] . k[j]) v[j]`, k and v read at slot j % capacity.
  }];
  let arguments = (ins MemRefRankOf<[F32], [3]>:$queries, MemRefRankOf<[F32], [3]>:$cache_k,
                       MemRefRankOf<[F32], [3]>:$cache_v, MemRefRankOf<[F32], [3]>:$out,
                       OptionalAttr<Exec_I64Attr>:$sliding_window);
  let assemblyFormat = [{
    $queries `,` $cache_k `,` $cache_v `into` $out attr-dict `:` type(operands)
  }];
  let hasVerifier = 1;
}

def Exec_RouteOp : Exec_Op<"route"> {
  let summary = "softmax, top-k and expert weights of each token's router logits";
  let description = [{
    For each token: p = softmax(logits[t]); top-k by repeated argmax (ties to the lower
    expert); `chosen[t, s]` the experts, `weights[t, s] = p / sum(top-k p) * scale[expert]`.
    `logits` is overwritten.
  }];
  let arguments = (ins MemRefRankOf<[F32], [2]>:$logits, AnyMemRef:$per_expert_scale,
                       MemRefRankOf<[I64], [2]>:$chosen, MemRefRankOf<[F32], [2]>:$weights);
  let assemblyFormat = [{
    $logits `,` $per_expert_scale `into` $chosen `,` $weights attr-dict `:` type(operands)
  }];
  let hasVerifier = 1;
}

def Exec_CombineExpertsOp : Exec_Op<"combine_experts"> {
  let summary = "out[t] = sum_s weights[t, s] * expert_out[t, s]";
  let arguments = (ins MemRefRankOf<[F32], [3]>:$expert_out, MemRefRankOf<[F32], [2]>:$weights,
                       MemRefRankOf<[F32], [2]>:$out);
  let assemblyFormat = "$expert_out `,` $weights `into` $out attr-dict `:` type(operands)";
  let hasVerifier = 1;
}

#endif // EXEC_OPS
