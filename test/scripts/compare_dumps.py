#!/usr/bin/env python3
"""Compares two logits dumps (float32 rows) and two token lists.

  compare_dumps.py A.f32 B.f32 A_TOKENS B_TOKENS TOLERANCE

Prints "max abs difference D, tokens match" and exits 1 if D > TOLERANCE, a value is NaN or
infinite, the dumps are empty or differ in length, or the token lists (files of comma-separated
ids) differ. Only the Python standard library is used.
"""
import sys

from numeric_compare import Difference, read_f32


def main():
    a, b = read_f32(sys.argv[1]), read_f32(sys.argv[2])
    tokens = [open(p).read().split() for p in sys.argv[3:5]]
    if not a:
        sys.exit("%s is empty" % sys.argv[1])
    difference = Difference(a, b)
    same = tokens[0] == tokens[1]
    print("%s, tokens %s" % (difference, "match" if same else "differ"))
    sys.exit(0 if difference.within(float(sys.argv[5])) and same else 1)


if __name__ == "__main__":
    main()
