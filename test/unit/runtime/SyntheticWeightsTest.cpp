//===- SyntheticWeightsTest.cpp - Generated stand-in weights ---------------===//
//
// Every format's generated rows, decoded by the format's own dequantizer, lie within the
// documented bound (around 0 for matrices, around 1 for vectors), use the whole range, and are
// the same however the rows are split among threads; another seed or tensor gives other rows.

#include "runtime/SyntheticWeights.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace gemc {
namespace {

constexpr int64_t kRows = 6, kColumns = 100; // a short last block

std::vector<uint8_t> generate(WeightFormat format, bool vector, uint64_t seed,
                              std::string_view name = "layers.0.mlp.down_proj.weight",
                              int64_t split = kRows) {
  std::vector<uint8_t> bytes(kRows * rowBytes(format, kColumns));
  SyntheticTensor tensor{name, format, kRows, kColumns, vector, bytes.data()};
  fillSyntheticRows(tensor, seed, 0, split);
  fillSyntheticRows(tensor, seed, split, kRows);
  return bytes;
}

class SyntheticWeightsTest : public testing::TestWithParam<WeightFormat> {};

TEST_P(SyntheticWeightsTest, ValuesLieWithinTheBoundAndSpanIt) {
  for (bool vector : {false, true}) {
    std::vector<uint8_t> bytes = generate(GetParam(), vector, 42);
    SyntheticTensor tensor{"", GetParam(), kRows, kColumns, vector, nullptr};
    float bound = syntheticValueBound(tensor);
    // Only the float formats and q4_1 (through its minimum) centre vectors on 1.
    bool centred = vector && (isFloatFormat(GetParam()) || GetParam() == WeightFormat::Q4_1);
    float centre = centred ? 1.0f : 0.0f;
    std::vector<float> row(kColumns);
    float low = 1e9f, high = -1e9f;
    for (int64_t r = 0; r < kRows; ++r) {
      dequantizeRow(GetParam(), bytes.data() + r * rowBytes(GetParam(), kColumns), kColumns,
                    row.data());
      for (float value : row) {
        // bf16 rounding may carry a value half a step (1/256 of it) past the bound.
        ASSERT_LE(std::abs(value - centre), bound * 1.01f) << "row " << r;
        low = std::min(low, value - centre);
        high = std::max(high, value - centre);
      }
    }
    EXPECT_LT(low, -0.5f * bound);
    EXPECT_GT(high, 0.5f * bound);
  }
}

TEST_P(SyntheticWeightsTest, RowsDependOnSeedAndTensorButNotOnTheSplit) {
  std::vector<uint8_t> whole = generate(GetParam(), false, 42);
  EXPECT_EQ(whole, generate(GetParam(), false, 42, "layers.0.mlp.down_proj.weight", 2));
  EXPECT_NE(whole, generate(GetParam(), false, 43));
  EXPECT_NE(whole, generate(GetParam(), false, 42, "layers.1.mlp.down_proj.weight"));
}

INSTANTIATE_TEST_SUITE_P(Formats, SyntheticWeightsTest,
                         testing::Values(WeightFormat::F32, WeightFormat::BF16, WeightFormat::F16,
                                         WeightFormat::Q8_0, WeightFormat::Q4_0,
                                         WeightFormat::Q4_1, WeightFormat::Q8_Ch),
                         [](const testing::TestParamInfo<WeightFormat> &info) {
                           return std::string(weightFormatName(info.param));
                         });

} // namespace
} // namespace gemc
