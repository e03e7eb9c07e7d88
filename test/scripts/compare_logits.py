#!/usr/bin/env python3
"""Compares a `--dump-logits` file and the printed greedy tokens with a reference case.

  compare_logits.py CASE_DIR DUMP TOKENS_FILE [--tolerance 1e-3]

CASE_DIR holds prompt.json, logits.f32, greedy.json and greedy_logits.f32 (shared/refdata layout).
The dump must have n_prompt + n_decode - 1 rows of `vocab` float32 values (every prompt position,
then every generated token fed back); TOKENS_FILE holds the comma-separated generated ids.
Prints the max abs difference; exits 1 on a mismatch or any NaN/Inf. Standard library only.
"""
import argparse
import json
import os
import sys

from numeric_compare import Difference, read_f32 as floats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("dump")
    ap.add_argument("tokens")
    ap.add_argument("--tolerance", type=float, default=1e-3)
    a = ap.parse_args()
    prompt = json.load(open(os.path.join(a.case, "prompt.json")))
    greedy = json.load(open(os.path.join(a.case, "greedy.json")))["tokens"]
    n_prompt, n_decode = len(prompt["tokens"]), len(greedy)
    reference = floats(os.path.join(a.case, "logits.f32")) + floats(os.path.join(a.case, "greedy_logits.f32"))
    vocab = len(floats(os.path.join(a.case, "logits.f32"))) // n_prompt
    dump = floats(a.dump)
    rows = n_prompt + n_decode - 1
    if len(dump) != rows * vocab:
        sys.exit("dump has %d values, expected %d rows of %d" % (len(dump), rows, vocab))
    difference = Difference(dump, reference[: rows * vocab])
    tokens = [int(t) for t in open(a.tokens).read().strip().split(",") if t]
    print("rows %d, %s, greedy tokens %s" %
          (rows, difference, "match" if tokens == greedy else "DIFFER: %s vs %s" % (tokens, greedy)))
    if not difference.within(a.tolerance) or tokens != greedy:
        sys.exit(1)


if __name__ == "__main__":
    main()
