#!/usr/bin/env python3
"""Compares a float32 file with (part of) a float32 reference file.

  compare_tensor.py OUT.f32 REFERENCE.f32 TOLERANCE [--rows N --row-size S]

With --rows, only the reference's first N rows of S values are compared (a prompt prefix of a
logits file, say). Prints "N values, max abs difference D" and exits 1 if D > TOLERANCE, a value
is NaN or infinite, or the sizes differ. Standard library only.
"""
import argparse
import sys

from numeric_compare import Difference, read_f32


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("reference")
    ap.add_argument("tolerance", type=float)
    ap.add_argument("--rows", type=int)
    ap.add_argument("--row-size", type=int)
    a = ap.parse_args()
    out, reference = read_f32(a.out), read_f32(a.reference)
    if a.rows is not None:
        reference = reference[: a.rows * a.row_size]
    difference = Difference(out, reference)
    print("%d values, %s" % (len(out), difference))
    if not out or not difference.within(a.tolerance):
        sys.exit(1)


if __name__ == "__main__":
    main()
