//===- NumericCompareTest.cpp - NaN and infinities fail every comparison --===//

#include "NumericCompare.h"

#include <vector>

using namespace gemc::test;

namespace {

const float kNonFinite[] = {std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity()};

TEST(NumericCompare, FiniteValues) {
  std::vector<float> a = {1, 2, 3}, b = {1, 2.5f, 2};
  Difference d = maxAbsDifference(a, b);
  EXPECT_EQ(d.worst, 1.0);
  EXPECT_EQ(d.where, 2u);
  EXPECT_TRUE(allClose(a, b, 1.0));
  EXPECT_FALSE(allClose(a, b, 0.5));
}

TEST(NumericCompare, NonFiniteFailsOnEitherSideAnywhere) {
  for (float bad : kNonFinite)
    for (size_t where = 0; where < 3; ++where)
      for (bool left : {true, false}) {
        std::vector<float> a = {0.5f, 0.25f, 0.125f}, b = a;
        (left ? a : b)[where] = bad;
        Difference d = maxAbsDifference(a, b);
        EXPECT_TRUE(std::isinf(d.worst)) << bad << " at " << where;
        EXPECT_EQ(d.where, where);
        EXPECT_FALSE(allClose(a, b, 1e30));
      }
}

TEST(NumericCompare, TheSameNonFiniteValueOnBothSidesFails) {
  for (float bad : kNonFinite) {
    std::vector<float> a = {1, bad};
    EXPECT_FALSE(allClose(a, a, 1e30)) << bad;
  }
}

TEST(NumericCompare, SizesDiffer) {
  std::vector<float> a = {1}, b = {1, 2};
  EXPECT_FALSE(allClose(a, b, 1.0));
  EXPECT_TRUE(std::isinf(maxAbsDifference(a, b).worst));
}

} // namespace
