//===- WeightFormatTest.cpp - Round trips of the weight formats ------------===//
//
// Bounds follow from each format's definition (runtime/common/WeightFormat.h); f16 rounding is
// checked against the exact f16 decoder on every bit pattern.

#include "runtime/common/WeightFormat.h"

#include "../../NumericCompare.h"
#include "runtime/common/DType.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

namespace gemc {
namespace {

TEST(WeightFormatTest, F16RoundingIsExactOnF16ValuesAndNearestOtherwise) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    float value = f16ToFloat(uint16_t(bits));
    if (std::isnan(value))
      continue;
    ASSERT_EQ(floatToF16(value), bits) << std::hex << bits;
  }
  EXPECT_EQ(floatToF16(1.0f + 0x1p-11f), 0x3C00);             // a tie goes to even
  EXPECT_EQ(floatToF16(1.0f + 3 * 0x1p-11f), 0x3C02);         // a tie goes to even (up)
  EXPECT_EQ(floatToF16(65520.0f), 0x7C00);                    // past the largest: infinity
  EXPECT_EQ(floatToF16(0x1p-25f), 0x0000);                    // half the smallest subnormal
  EXPECT_EQ(floatToF16(0x1.8p-25f), 0x0001);
}

/// The smallest f16 >= value (value > 0), found by stepping: independent of WeightFormat.cpp.
uint16_t f16AtLeastForTest(float value) {
  uint16_t bits = 0;
  while (f16ToFloat(bits) < value)
    ++bits;
  return bits;
}

/// The largest |value - stored value| over a row, and the row's values.
std::vector<float> roundTrip(WeightFormat format, std::vector<float> row) {
  roundTripRow(format, row.data(), int64_t(row.size()));
  return row;
}

float maxError(const std::vector<float> &a, const std::vector<float> &b, size_t from, size_t to) {
  return float(test::maxAbsDifference(std::span(a).subspan(from, to - from),
                                      std::span(b).subspan(from, to - from))
                   .worst);
}

float amax(const std::vector<float> &v, size_t from, size_t to) {
  float m = 0;
  for (size_t i = from; i < to; ++i)
    m = std::max(m, std::abs(v[i]));
  return m;
}

std::vector<std::vector<float>> testRows() {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<std::vector<float>> rows;
  for (int64_t columns : {32, 64, 100, 7}) { // 100 and 7: a short last block
    std::vector<float> row(static_cast<size_t>(columns));
    for (float &v : row)
      v = normal(rng);
    rows.push_back(row);
  }
  std::vector<float> outlier(64, 0.001f);
  outlier[5] = 3.0f;
  rows.push_back(outlier);
  rows.push_back(std::vector<float>(64, 0.0f));
  std::vector<float> negative(40);
  for (size_t i = 0; i < negative.size(); ++i)
    negative[i] = -0.01f * float(i + 1);
  rows.push_back(negative);
  rows.push_back(std::vector<float>(33, 0.25f)); // constant, with a one-value last block
  return rows;
}

TEST(WeightFormatTest, BlockFormatsStayWithinHalfAStep) {
  for (const std::vector<float> &row : testRows()) {
    for (size_t start = 0; start < row.size(); start += kQuantBlock) {
      size_t end = std::min(row.size(), start + size_t(kQuantBlock));
      float m = amax(row, start, end);
      // q8_0: step d = amax / 127 rounded up to an f16: at most 2^-10 relatively larger, or
      // one f16 subnormal step (2^-24) for tiny scales.
      float d8 = m / 127.0f * (1 + 0x1p-10f) + 0x1p-24f;
      EXPECT_LE(maxError(row, roundTrip(WeightFormat::Q8_0, row), start, end), d8 / 2 + 1e-9f);
      // q4_0: step |m| / 8; the value opposite the extreme may clip one step.
      float d4 = m / 8.0f * (1 + 0x1p-10f) + 0x1p-24f;
      EXPECT_LE(maxError(row, roundTrip(WeightFormat::Q4_0, row), start, end), d4 + 1e-9f);
      // q4_1: step (max - min) / 15, nothing clipped.
      float lo = *std::min_element(row.begin() + start, row.begin() + end);
      float hi = *std::max_element(row.begin() + start, row.begin() + end);
      float span = (hi - lo) + std::abs(lo) * 0x1p-10f;
      float step = span / 15.0f * (1 + 0x1p-10f) + 0x1p-24f;
      EXPECT_LE(maxError(row, roundTrip(WeightFormat::Q4_1, row), start, end),
                step / 2 + 1e-6f * std::abs(lo) + 1e-9f);
    }
    float d = amax(row, 0, row.size()) / 127.0f;
    EXPECT_LE(maxError(row, roundTrip(WeightFormat::Q8_Ch, row), 0, row.size()),
              d / 2 * (1 + 1e-6f) + 1e-9f);
  }
}

TEST(WeightFormatTest, ExtremesAndZerosAreExact) {
  std::vector<float> outlier(64, 0.001f);
  outlier[5] = 3.0f;
  EXPECT_EQ(roundTrip(WeightFormat::Q4_0, outlier)[5], 3.0f); // m = -8 d exactly
  for (WeightFormat f : {WeightFormat::Q8_0, WeightFormat::Q4_0, WeightFormat::Q4_1,
                         WeightFormat::Q8_Ch})
    for (float v : roundTrip(f, std::vector<float>(40, 0.0f)))
      EXPECT_EQ(v, 0.0f) << weightFormatName(f);
  // Negative-only blocks: q4_1's minimum is exact when it is an f16.
  std::vector<float> negative = {-0.5f, -0.25f, -0.125f, -0.375f};
  EXPECT_EQ(roundTrip(WeightFormat::Q4_1, negative)[0], -0.5f);
}

TEST(WeightFormatTest, FloatFormatsRoundToNearest) {
  std::vector<float> row = {1.0f + 0x1p-9f, 1.0f + 0x1p-8f + 0x1p-9f, 70000.0f, -0.1f};
  std::vector<float> bf16 = roundTrip(WeightFormat::BF16, row);
  EXPECT_EQ(bf16[0], 1.0f);           // a quarter step: down
  EXPECT_EQ(bf16[1], 1.0f + 0x1p-7f); // three quarters: up
  EXPECT_EQ(bf16[2], 70144.0f);
  std::vector<float> f16 = roundTrip(WeightFormat::F16, row);
  EXPECT_EQ(f16[0], 1.0f + 0x1p-9f);
  EXPECT_TRUE(std::isinf(f16[2]));
  EXPECT_EQ(roundTrip(WeightFormat::F32, row), row);
}

// int8 activations, by hand: a block's scale is amax / 127 and each value x * (1 / scale)
// rounded half to even; the last block is padded with zeros to 32 bytes. Scales of 1 and 2 make
// every product exact, so the ties are ties.
TEST(WeightFormatTest, ActivationsRoundToInt8Blocks) {
  std::vector<float> row(40, 0.0f);
  row[0] = 127.0f; // block 0: amax 127, scale 1
  row[1] = 2.5f;   // -> 2 (half to even; half away from zero would give 3)
  row[2] = -3.5f;  // -> -4
  row[3] = 0.5f;   // -> 0
  row[4] = 1.25f;  // -> 1
  row[32] = -254.0f; // block 1 (8 values): amax 254, scale 2
  row[33] = 5.0f;    // 2.5 -> 2
  row[34] = 3.0f;    // 1.5 -> 2
  ASSERT_EQ(activationRowBytes(40), 2 * 4 + 2 * 16 + 2 * 32);
  std::vector<uint8_t> stored(104, 0xAA);
  quantizeActivations(row.data(), 40, stored.data());
  float d0, d1;
  std::memcpy(&d0, stored.data(), 4);
  std::memcpy(&d1, stored.data() + 4, 4);
  EXPECT_EQ(d0, 1.0f);
  EXPECT_EQ(d1, 2.0f);
  // Each block's corrections: -8 x the sums of values 4k..4k+3 and 16+4k..16+4k+3. Block 0:
  // 127 + 2 - 4 + 0 and 1; block 1: -127 + 2 + 2.
  int32_t c[8];
  std::memcpy(c, stored.data() + 8, sizeof(c));
  EXPECT_EQ(std::vector<int32_t>(c, c + 8),
            (std::vector<int32_t>{-8 * 125, -8, 0, 0, 8 * 123, 0, 0, 0}));
  const int8_t *q = reinterpret_cast<const int8_t *>(stored.data() + 40);
  std::vector<int8_t> expected(64, 0);
  expected[0] = 127, expected[1] = 2, expected[2] = -4, expected[3] = 0, expected[4] = 1;
  expected[32] = -127, expected[33] = 2, expected[34] = 2;
  EXPECT_EQ(std::vector<int8_t>(q, q + 64), expected); // 35..63 zero: the padding
  std::vector<float> values = row;
  roundTripActivations(ActivationFormat::Int8, values.data(), 40);
  EXPECT_EQ(values[1], 2.0f);
  EXPECT_EQ(values[33], 4.0f);
  EXPECT_EQ(values[32], -254.0f);

  std::vector<float> zeros(32, 0.0f); // scale 0: every q is 0, no division by zero
  quantizeActivations(zeros.data(), 32, stored.data());
  EXPECT_EQ(std::count(stored.begin(), stored.begin() + 52, 0), 52);
}

TEST(WeightFormatTest, Bf16ActivationsRoundToNearestTiesToEven) {
  // bf16 keeps 7 mantissa bits: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7 (even: 1), and
  // 1 + 3 * 2^-8 halfway between 1 + 2^-7 and 1 + 2^-6 (even: 1 + 2^-6).
  std::vector<float> values = {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-20f,
                               -(1.0f + 0x1p-8f + 0x1p-20f), 0.0f};
  roundTripActivations(ActivationFormat::BF16, values.data(), 5);
  EXPECT_EQ(values, (std::vector<float>{1.0f, 1.0f + 0x1p-6f, 1.0f + 0x1p-7f,
                                        -(1.0f + 0x1p-7f), 0.0f}));
  std::vector<float> untouched = {1.0f + 0x1p-8f};
  roundTripActivations(ActivationFormat::F32, untouched.data(), 1);
  EXPECT_EQ(untouched[0], 1.0f + 0x1p-8f);
  // Which weights round their input, and the names.
  EXPECT_TRUE(roundsActivationsFor(ActivationFormat::Int8, WeightFormat::Q4_1));
  EXPECT_FALSE(roundsActivationsFor(ActivationFormat::Int8, WeightFormat::BF16));
  EXPECT_TRUE(roundsActivationsFor(ActivationFormat::BF16, WeightFormat::BF16));
  EXPECT_FALSE(roundsActivationsFor(ActivationFormat::BF16, WeightFormat::F16));
  EXPECT_FALSE(roundsActivationsFor(ActivationFormat::F32, WeightFormat::Q4_0));
  EXPECT_EQ(parseActivationFormat("bf16"), ActivationFormat::BF16);
  EXPECT_EQ(parseActivationFormat("int4"), std::nullopt);
  EXPECT_EQ(activationFormatName(ActivationFormat::Int8), "int8");
}

TEST(WeightFormatTest, RowBytesAndNames) {
  EXPECT_EQ(rowBytes(WeightFormat::Q8_0, 64), 68u);
  EXPECT_EQ(rowBytes(WeightFormat::Q4_0, 100), 4u * 18u);
  EXPECT_EQ(rowBytes(WeightFormat::Q4_1, 32), 20u);
  EXPECT_EQ(rowBytes(WeightFormat::Q8_Ch, 10), 14u);
  EXPECT_EQ(rowBytes(WeightFormat::BF16, 10), 20u);
  for (std::string_view name : {"f32", "bf16", "f16", "q8_0", "q4_0", "q4_1", "q8_ch"})
    EXPECT_EQ(weightFormatName(*parseWeightFormat(name)), name);
  EXPECT_FALSE(parseWeightFormat("q4_k"));
}

TEST(WeightFormatTest, RowLayoutPutsBlockScalesFirst) {
  // 40 values: a block of 32 and one of 8; the kernels read exactly these bytes.
  std::vector<float> row(40);
  for (int j = 0; j < 32; ++j)
    row[j] = float(j % 16) - 8.0f; // q4_0: largest magnitude -8, so d = 1 and q = j % 16
  for (int j = 32; j < 40; ++j)
    row[j] = 1.0f;
  std::vector<uint8_t> q4(rowBytes(WeightFormat::Q4_0, 40));
  ASSERT_EQ(q4.size(), 2u * 2 + 2u * 16);
  quantizeRow(WeightFormat::Q4_0, row.data(), 40, q4.data());
  EXPECT_EQ(q4[0] | q4[1] << 8, 0x3C00); // block 0: d = 1.0
  for (int j = 0; j < 16; ++j)           // byte j: value j (low nibble) and j + 16 (high)
    EXPECT_EQ(q4[4 + j], 0x11 * j) << j;
  // Block 1: largest magnitude 1, d = -1/8, q = 1 / d + 8 = 0 for 8 values, the rest empty.
  EXPECT_EQ(q4[2] | q4[3] << 8, floatToF16(-0.125f));
  for (int j = 0; j < 16; ++j)
    EXPECT_EQ(q4[20 + j], 0) << j;

  std::vector<uint8_t> q8(rowBytes(WeightFormat::Q8_0, 40));
  ASSERT_EQ(q8.size(), 2u * 2 + 40u); // a short last block stores only its values
  quantizeRow(WeightFormat::Q8_0, row.data(), 40, q8.data());
  EXPECT_EQ(int8_t(q8[4]), -127);      // value 0 = -8 = -amax
  EXPECT_EQ(int8_t(q8[4 + 32]), 127);  // value 32 = 1 = amax of block 1
  EXPECT_EQ(q8[2] | q8[3] << 8, f16AtLeastForTest(1.0f / 127.0f));
}

TEST(WeightFormatTest, StoreRowsCopiesOrConverts) {
  std::vector<uint16_t> bf16(2 * 33);
  for (size_t i = 0; i < bf16.size(); ++i)
    bf16[i] = uint16_t(0x3F80 + i); // 1.0 and up
  auto *bytes = reinterpret_cast<const uint8_t *>(bf16.data());
  std::vector<uint8_t> copy(2 * rowBytes(WeightFormat::BF16, 33));
  storeRows(DType::BF16, bytes, 2, 33, WeightFormat::BF16, copy.data());
  EXPECT_EQ(std::memcmp(copy.data(), bytes, copy.size()), 0);

  std::vector<uint8_t> stored(2 * rowBytes(WeightFormat::Q4_1, 33)), expected(stored.size());
  storeRows(DType::BF16, bytes, 2, 33, WeightFormat::Q4_1, stored.data());
  for (int r = 0; r < 2; ++r) {
    std::vector<float> values(33);
    decodeToFloat(DType::BF16, bytes + r * 66, 33, values.data());
    quantizeRow(WeightFormat::Q4_1, values.data(), 33,
                expected.data() + r * rowBytes(WeightFormat::Q4_1, 33));
  }
  EXPECT_EQ(stored, expected);
}

/// `rows` rows of `format`, each byte naming its row and position: row r, byte i holds
/// (r * rowBytes + i) % 251.
std::vector<uint8_t> numberedRows(WeightFormat format, int64_t columns, int64_t rows) {
  std::vector<uint8_t> data(size_t(rows) * rowBytes(format, columns));
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = uint8_t(i % 251);
  return data;
}

TEST(WeightFormatTest, RowTilesInterleaveScalesThenValuePieces) {
  // q4_0, 64 columns (2 blocks, rows of 4 + 32 bytes), tiles of 4 rows (halves of 2).
  // A tile block is 72 bytes: four scales (8), then 16 packed bytes of rows 0, 1, 2, 3.
  std::vector<uint8_t> rows = numberedRows(WeightFormat::Q4_0, 64, 8), tiled = rows;
  tileRows(WeightFormat::Q4_0, 64, 4, 8, tiled.data());
  auto row = [&](int r, int byte, int count) {
    return std::vector<uint8_t>(rows.begin() + r * 36 + byte, rows.begin() + r * 36 + byte + count);
  };
  auto at = [&](int byte, int count) {
    return std::vector<uint8_t>(tiled.begin() + byte, tiled.begin() + byte + count);
  };
  EXPECT_EQ(at(0, 2), row(0, 0, 2));    // block 0: row 0's scale
  EXPECT_EQ(at(6, 2), row(3, 0, 2));    // row 3's scale
  EXPECT_EQ(at(8, 16), row(0, 4, 16));  // row 0's values
  EXPECT_EQ(at(24, 16), row(1, 4, 16)); // row 1's
  EXPECT_EQ(at(56, 16), row(3, 4, 16)); // row 3's
  EXPECT_EQ(at(72, 2), row(0, 2, 2));   // block 1: row 0's scale
  EXPECT_EQ(at(80, 16), row(0, 20, 16));
  EXPECT_EQ(at(144, 2), row(4, 0, 2));  // the second tile, rows 4-7
  EXPECT_EQ(at(144 + 128, 16), row(7, 20, 16));
  EXPECT_EQ(tiledValueByte(WeightFormat::Q4_0, 64, 4, 2, 1, 5), 72 + 8 + 32 + 5);
  EXPECT_EQ(tiledScaleByte(WeightFormat::Q4_0, 64, 4, 3, 1), 72 + 6);

  // q8_0, 32 columns (rows of 2 + 32 bytes), tiles of 4: per half, values 0-15 of each of
  // its two rows, then values 16-31 of each.
  rows = numberedRows(WeightFormat::Q8_0, 32, 4);
  tiled = rows;
  tileRows(WeightFormat::Q8_0, 32, 4, 4, tiled.data());
  auto row8 = [&](int r, int byte, int count) {
    return std::vector<uint8_t>(rows.begin() + r * 34 + byte, rows.begin() + r * 34 + byte + count);
  };
  EXPECT_EQ(at(2, 2), row8(1, 0, 2));
  EXPECT_EQ(at(8, 16), row8(0, 2, 16));   // row 0, values 0-15
  EXPECT_EQ(at(24, 16), row8(1, 2, 16));  // row 1, values 0-15
  EXPECT_EQ(at(40, 16), row8(0, 18, 16)); // row 0, values 16-31
  EXPECT_EQ(at(72, 16), row8(2, 2, 16));  // the second half: row 2, values 0-15
  EXPECT_EQ(at(120, 16), row8(3, 18, 16));

  // storeRows quantizes, then tiles.
  std::vector<uint16_t> bf16(8 * 64);
  for (size_t i = 0; i < bf16.size(); ++i)
    bf16[i] = uint16_t(0x3F80 + i % 97);
  auto *bytes = reinterpret_cast<const uint8_t *>(bf16.data());
  std::vector<uint8_t> direct(8 * 36), expected(8 * 36);
  storeRows(DType::BF16, bytes, 8, 64, WeightFormat::Q4_0, direct.data(), 4);
  storeRows(DType::BF16, bytes, 8, 64, WeightFormat::Q4_0, expected.data());
  tileRows(WeightFormat::Q4_0, 64, 4, 8, expected.data());
  EXPECT_EQ(direct, expected);
  EXPECT_TRUE(canTileRows(WeightFormat::Q8_0, 64));
  EXPECT_FALSE(canTileRows(WeightFormat::Q4_0, 48)); // a short block
  EXPECT_FALSE(canTileRows(WeightFormat::Q4_1, 64));
}

} // namespace
} // namespace gemc
