"""The one way the test scripts compare numbers: float32 dumps read the same way everywhere, and
a difference that is infinite whenever either side holds a NaN or an infinity.

`max(abs(x - y) ...)` skips a NaN (every comparison with NaN is false, so `max` keeps the value
it had), which lets a kernel that writes NaN pass; `max_abs_difference` cannot be fooled that
way. Standard library only, so every script can import it.
"""
import array
import math
import sys


def read_f32(path):
    """A file of little-endian float32 values as an array('f')."""
    values = array.array("f")
    with open(path, "rb") as f:
        values.frombytes(f.read())
    if sys.byteorder != "little":
        values.byteswap()
    return values


class Difference:
    """The largest absolute difference between two equally long sequences, and where it is.

    `worst` is inf when a value on either side is not finite (then `where` is the first such
    index) or when the lengths differ; `within(tolerance)` is then false for every tolerance.
    """

    def __init__(self, a, b):
        self.worst, self.where, self.reason = 0.0, None, None
        if len(a) != len(b):
            self.worst, self.reason = math.inf, "lengths differ: %d and %d values" % (len(a), len(b))
            return
        for i, (x, y) in enumerate(zip(a, b)):
            if not (math.isfinite(x) and math.isfinite(y)):
                self.worst, self.where = math.inf, i
                self.reason = "value %d is not finite: %r vs %r" % (i, x, y)
                return
            d = abs(x - y)
            if d > self.worst:
                self.worst, self.where = d, i

    def within(self, tolerance):
        return self.worst <= tolerance

    def __str__(self):
        return self.reason or "max abs difference %.3g" % self.worst


def max_abs_difference(a, b):
    """The largest |a[i] - b[i]|; inf if any value is NaN or infinite, or the lengths differ."""
    return Difference(a, b).worst
