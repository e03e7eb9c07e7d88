#!/usr/bin/env python3
"""numeric_compare and the scripts built on it fail on NaN, +Inf and -Inf on either side."""
import array
import math
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from numeric_compare import Difference, max_abs_difference  # noqa: E402

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
BAD = [math.nan, math.inf, -math.inf]


class DifferenceTest(unittest.TestCase):
    def test_finite_values(self):
        d = Difference([1.0, 2.0, 3.0], [1.0, 2.5, 2.0])
        self.assertEqual(d.worst, 1.0)
        self.assertEqual(d.where, 2)
        self.assertTrue(d.within(1.0))
        self.assertFalse(d.within(0.5))

    def test_non_finite_fails_on_either_side_anywhere(self):
        for bad in BAD:
            for where in range(3):
                a, b = [0.5, 0.25, 0.125], [0.5, 0.25, 0.125]
                for side in (a, b):
                    broken = list(side)
                    broken[where] = bad
                    pair = (broken, b) if side is a else (a, broken)
                    d = Difference(*pair)
                    self.assertEqual(d.worst, math.inf, (bad, where))
                    self.assertEqual(d.where, where)
                    self.assertFalse(d.within(1e30))
                    self.assertIn("not finite", str(d))

    def test_same_non_finite_on_both_sides_still_fails(self):
        for bad in BAD:
            self.assertEqual(max_abs_difference([bad], [bad]), math.inf)

    def test_lengths_differ(self):
        self.assertFalse(Difference([1.0], [1.0, 2.0]).within(1.0))


def dump(directory, name, values):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        array.array("f", values).tofile(f)
    return path


class ScriptsTest(unittest.TestCase):
    """compare_dumps.py, the command-line face of the helper, exits 1 on NaN and infinities."""

    def run_compare(self, a, b):
        with tempfile.TemporaryDirectory() as tmp:
            tokens = os.path.join(tmp, "tokens")
            with open(tokens, "w") as f:
                f.write("1,2")
            args = [sys.executable, os.path.join(SCRIPTS, "compare_dumps.py"),
                    dump(tmp, "a.f32", a), dump(tmp, "b.f32", b), tokens, tokens, "1e-3"]
            return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT).returncode

    def test_equal_dumps_pass(self):
        self.assertEqual(self.run_compare([1.0, 2.0], [1.0, 2.0]), 0)

    def test_non_finite_dumps_fail(self):
        for bad in BAD:
            self.assertEqual(self.run_compare([1.0, bad], [1.0, 2.0]), 1, bad)
            self.assertEqual(self.run_compare([1.0, 2.0], [bad, 2.0]), 1, bad)
            self.assertEqual(self.run_compare([bad, 2.0], [bad, 2.0]), 1, bad)

    def test_empty_dumps_fail(self):
        self.assertEqual(self.run_compare([], []), 1)


if __name__ == "__main__":
    unittest.main()
