#!/usr/bin/env python3
"""Runs `gemc eval` on a multimodal reference case and compares its logits with the case's.

  eval_media_case.py CASE_DIR OUT_PREFIX TOLERANCE

CASE_DIR is a folder written by make_tiny_multimodal.py or make_media_cases.py: its
manifest.json names the inputs (images or an audio clip) and input_ids.i32 holds the processor's
expanded ids. gemc (from PATH) evaluates the ids with those files and dumps the logits of every
position to OUT_PREFIX.f32; prints "CASE: N positions, max abs difference D" and whether the
greedy next token matches the reference's, and exits 1 if gemc fails, D > TOLERANCE or the
tokens differ. Standard library only.
"""
import json
import os
import struct
import subprocess
import sys

from numeric_compare import Difference, read_f32


def main():
    case, prefix, tolerance = sys.argv[1], sys.argv[2], float(sys.argv[3])
    manifest = json.load(open(os.path.join(case, "manifest.json")))
    with open(os.path.join(case, "input_ids.i32"), "rb") as f:
        data = f.read()
    ids = struct.unpack("<%di" % (len(data) // 4), data)
    media = []
    for image in manifest["inputs"].get("images", []):
        media += ["--image", os.path.join(case, image["file"])]
    if "audio" in manifest["inputs"]:
        media += ["--audio", os.path.join(case, manifest["inputs"]["audio"]["file"])]
    out = prefix + ".f32"
    command = ["gemc", "eval", case, "-n", "0", "--tokens", ",".join(map(str, ids)),
               "--dump-logits", out] + media
    run = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if run.returncode != 0:
        sys.exit("gemc eval failed (%d): %s" % (run.returncode, run.stderr.strip()))
    logits, reference = read_f32(out), read_f32(os.path.join(case, "logits.f32"))
    vocab = len(reference) // len(ids)
    last = logits[-vocab:]
    greedy = max(range(vocab), key=last.__getitem__) if len(logits) == len(reference) else -1
    difference = Difference(logits, reference)
    same = greedy == manifest["greedy_next_token"]
    print("%s: %d positions, %s, greedy next token %s" %
          (os.path.basename(os.path.normpath(case)), len(ids), difference,
           "matches" if same else "differs (%d, expected %d)" % (greedy, manifest["greedy_next_token"])))
    if not difference.within(tolerance) or not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
