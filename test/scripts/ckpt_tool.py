#!/usr/bin/env python3
"""Copies a checkpoint directory and changes it on purpose, for tests of gemc's error handling.

  ckpt_tool.py SRC DST ACTION [ARGS...]

DST is created (replaced if present) with SRC's config.json and model.safetensors, then ACTION:
  copy                         nothing more
  truncate BYTES               keep the first BYTES bytes of model.safetensors
  header-length N              overwrite the 8-byte header length with N
  header-text TEXT             replace the JSON header with TEXT (length fixed up)
  tensor NAME FIELD JSON...    set header[NAME][FIELD] = JSON ("dtype", "shape", "data_offsets");
                               more FIELD JSON pairs may follow
  add-tensor NAME DTYPE SHAPE  append a zero tensor, e.g. add-tensor x F32 2,3
  config FIELD JSON            set text_config.FIELD = JSON
  config-delete FIELD          remove text_config.FIELD
  shard N                      split the weights into N shards plus model.safetensors.index.json
  duplicate NAME               list tensor NAME twice in the header (JSON with a repeated key)
Only the Python standard library is used.
"""
import json
import os
import shutil
import struct
import sys

SIZES = {"BF16": 2, "F16": 2, "F32": 4, "F64": 8, "I8": 1, "I32": 4, "I64": 8, "U8": 1}


def read_st(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write_st(path, header, data, header_text=None):
    text = (header_text if header_text is not None else json.dumps(header)).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def tensors_in_order(header):
    items = [(k, v) for k, v in header.items() if k != "__metadata__"]
    return sorted(items, key=lambda kv: kv[1]["data_offsets"][0])


def shard(dst, header, data, n):
    items = tensors_in_order(header)
    per = -(-len(items) // n)
    weight_map = {}
    for i in range(n):
        name = "model-%05d-of-%05d.safetensors" % (i + 1, n)
        part, blob = {}, b""
        for key, meta in items[i * per:(i + 1) * per]:
            a, b = meta["data_offsets"]
            part[key] = dict(meta, data_offsets=[len(blob), len(blob) + b - a])
            blob += data[a:b]
            weight_map[key] = name
        write_st(os.path.join(dst, name), part, blob)
    os.remove(os.path.join(dst, "model.safetensors"))
    with open(os.path.join(dst, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": len(data)}, "weight_map": weight_map}, f, indent=1)


def edit_config(dst, change):
    path = os.path.join(dst, "config.json")
    with open(path) as f:
        config = json.load(f)
    change(config["text_config"] if "text_config" in config else config)
    with open(path, "w") as f:
        json.dump(config, f, indent=1)


def main(argv):
    src, dst, action, args = argv[1], argv[2], argv[3], argv[4:]
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(dst)
    for name in ("config.json", "model.safetensors"):
        shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
    st = os.path.join(dst, "model.safetensors")
    if action == "copy":
        return
    if action == "truncate":
        with open(st, "r+b") as f:
            f.truncate(int(args[0]))
    elif action == "header-length":
        with open(st, "r+b") as f:
            f.write(struct.pack("<Q", int(args[0])))
    elif action in ("header-text", "tensor", "add-tensor", "shard", "duplicate"):
        header, data = read_st(st)
        if action == "header-text":
            write_st(st, None, data, header_text=args[0])
        elif action == "duplicate":
            entry = json.dumps({args[0]: header[args[0]]})[1:-1]
            write_st(st, None, data, header_text=json.dumps(header)[:-1] + ", " + entry + "}")
        elif action == "tensor":
            for field, value in zip(args[1::2], args[2::2]):
                header[args[0]][field] = json.loads(value)
            write_st(st, header, data)
        elif action == "add-tensor":
            shape = [int(d) for d in args[2].split(",")]
            count = 1
            for d in shape:
                count *= d
            size = count * SIZES[args[1]]
            header[args[0]] = {"dtype": args[1], "shape": shape,
                               "data_offsets": [len(data), len(data) + size]}
            write_st(st, header, data + b"\0" * size)
        else:
            shard(dst, header, data, int(args[0]))
    elif action == "config":
        edit_config(dst, lambda c: c.__setitem__(args[0], json.loads(args[1])))
    elif action == "config-delete":
        edit_config(dst, lambda c: c.pop(args[0]))
    else:
        sys.exit("ckpt_tool.py: unknown action " + action)


if __name__ == "__main__":
    main(sys.argv)
