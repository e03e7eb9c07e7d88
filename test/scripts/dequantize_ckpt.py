#!/usr/bin/env python3
"""Writes a copy of a checkpoint whose matrices hold, as f32, the values a weight format stores.

  dequantize_ckpt.py SRC DST FORMAT      FORMAT: f32 bf16 f16 q8_0 q4_0 q4_1 q8_ch

An independent (numpy) implementation of the formats of dialects/gemma/WeightFormat.h, for
checking `gemc eval --quant FORMAT SRC` against `gemc eval DST`. Matrices are the tensors of the
quantizable classes (embeddings, projections, router, experts); norms and scales are copied.
Rows are the last dimension; block formats cut rows into blocks of 32, the last one shorter.
"""
import os
import shutil
import sys

import numpy as np

from ckpt_tool import read_st, write_st

F32 = np.float32
QUANTIZED_SUFFIXES = (
    "embed_tokens.weight", "embed_tokens_per_layer.weight", "lm_head.weight",
    "per_layer_model_projection.weight", "per_layer_input_gate.weight",
    "per_layer_projection.weight", "q_proj.weight", "k_proj.weight", "v_proj.weight",
    "o_proj.weight", "gate_proj.weight", "up_proj.weight", "down_proj.weight",
    "router.proj.weight", "experts.gate_up_proj", "experts.down_proj")


def f16_at_least(v):
    h = np.float16(v)
    if F32(h) < v:
        h = np.nextafter(h, np.float16(np.inf))
    return min(F32(h), F32(65504))


def f16_at_most(v):
    h = np.float16(v)
    if F32(h) > v:
        h = np.nextafter(h, np.float16(-np.inf))
    return max(F32(h), F32(-65504))


def largest_magnitude(x):
    return x[int(np.argmax(np.abs(x)))]  # the first of equal magnitudes


def q8_0(x):
    d = f16_at_least(F32(abs(largest_magnitude(x))) / F32(127))
    q = np.clip(np.rint(x / d), -127, 127) if d > 0 else np.zeros_like(x)
    return (d * q.astype(F32)).astype(F32)


def q4_0(x):
    d = F32(np.float16(F32(largest_magnitude(x)) / F32(-8)))
    q = np.clip(np.rint(x / d + F32(8)), 0, 15) if d != 0 else np.full_like(x, 8)
    return (d * (q.astype(F32) - F32(8))).astype(F32)


def q4_1(x):
    low = f16_at_most(F32(x.min()))
    d = f16_at_least((F32(x.max()) - low) / F32(15))
    q = np.clip(np.rint((x - low) / d), 0, 15) if d > 0 else np.zeros_like(x)
    return (low + d * q.astype(F32)).astype(F32)


def q8_ch(row):
    d = F32(abs(largest_magnitude(row))) / F32(127)
    q = np.clip(np.rint(row / d), -127, 127) if d > 0 else np.zeros_like(row)
    return (d * q.astype(F32)).astype(F32)


def bf16(x):
    bits = x.view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return (rounded & 0xFFFFFFFF).astype(np.uint32).view(F32)


def round_row(fmt, row):
    if fmt == "f32":
        return row
    if fmt == "bf16":
        return bf16(row)
    if fmt == "f16":
        return row.astype(np.float16).astype(F32)
    if fmt == "q8_ch":
        return q8_ch(row)
    block = {"q8_0": q8_0, "q4_0": q4_0, "q4_1": q4_1}[fmt]
    return np.concatenate([block(row[i:i + 32]) for i in range(0, len(row), 32)])


def decode(meta, raw):
    if meta["dtype"] == "BF16":
        return (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(F32)
    if meta["dtype"] == "F16":
        return np.frombuffer(raw, np.float16).astype(F32)
    return np.frombuffer(raw, F32).copy()


def main():
    src, dst, fmt = sys.argv[1:4]
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(dst)
    shutil.copyfile(os.path.join(src, "config.json"), os.path.join(dst, "config.json"))
    header, data = read_st(os.path.join(src, "model.safetensors"))
    out_header, blobs, offset = {}, [], 0
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        blob = data[a:b]
        if len(meta["shape"]) >= 2 and name.endswith(QUANTIZED_SUFFIXES):
            rows = decode(meta, blob).reshape(-1, meta["shape"][-1])
            blob = np.stack([round_row(fmt, row) for row in rows]).astype(F32).tobytes()
            meta = dict(meta, dtype="F32")
        out_header[name] = dict(meta, data_offsets=[offset, offset + len(blob)])
        blobs.append(blob)
        offset += len(blob)
    write_st(os.path.join(dst, "model.safetensors"), out_header, b"".join(blobs))


if __name__ == "__main__":
    main()
