#!/usr/bin/env python3
"""Compares two logits dumps (float32 rows) and two token lists.

  compare_dumps.py A.f32 B.f32 A_TOKENS B_TOKENS TOLERANCE

Prints "max abs difference D, tokens match" and exits 1 if D > TOLERANCE or the token lists
(files of comma-separated ids) differ. Only the Python standard library is used.
"""
import array
import sys


def main():
    a, b = array.array("f"), array.array("f")
    for path, values in ((sys.argv[1], a), (sys.argv[2], b)):
        with open(path, "rb") as f:
            values.frombytes(f.read())
    tokens = [open(p).read().split() for p in sys.argv[3:5]]
    if len(a) != len(b):
        sys.exit("dumps differ in length: %d and %d values" % (len(a), len(b)))
    worst = max((abs(x - y) for x, y in zip(a, b)), default=0.0)
    same = tokens[0] == tokens[1]
    print("max abs difference %.3g, tokens %s" % (worst, "match" if same else "differ"))
    sys.exit(0 if worst <= float(sys.argv[5]) and same else 1)


if __name__ == "__main__":
    main()
