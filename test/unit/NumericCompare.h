//===- NumericCompare.h - The one way unit tests compare float results ----===//
//
// `std::max(worst, std::fabs(a - b))` skips a NaN (every comparison with NaN is false, so the
// maximum keeps its old value), which lets a kernel that writes NaN pass. These helpers make the
// difference infinite when either side holds a NaN or an infinity, so such a kernel fails every
// tolerance. Header-only and LLVM-free, so the compiler's and the runtime's tests share it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>

namespace gemc::test {

/// The largest |a[i] - b[i]| and the index where it is; +inf (at the first such index) when a
/// value on either side is not finite, or when the sizes differ.
struct Difference {
  double worst = 0;
  size_t where = 0;
};

inline Difference maxAbsDifference(std::span<const float> a, std::span<const float> b) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (a.size() != b.size())
    return {inf, std::min(a.size(), b.size())};
  Difference result;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i]))
      return {inf, i};
    double d = std::fabs(double(a[i]) - double(b[i]));
    if (d > result.worst)
      result = {d, i};
  }
  return result;
}

/// Success when every value is finite and within `tolerance` of the other side's; the failure
/// message names the worst index and both values.
inline ::testing::AssertionResult allClose(std::span<const float> actual,
                                           std::span<const float> expected, double tolerance) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure()
           << actual.size() << " values, expected " << expected.size();
  Difference d = maxAbsDifference(actual, expected);
  if (d.worst <= tolerance)
    return ::testing::AssertionSuccess() << "max abs difference " << d.worst;
  return ::testing::AssertionFailure()
         << "value " << d.where << ": " << actual[d.where] << " vs " << expected[d.where]
         << " (max abs difference " << d.worst << ", tolerance " << tolerance << ")";
}

} // namespace gemc::test
