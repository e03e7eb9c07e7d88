//===- WeightFormat.cpp - What a quantized weight means -------------------===//

#include "runtime/common/WeightFormat.h"

#include "runtime/common/DType.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <vector>

namespace gemc {
namespace {

struct FormatName {
  WeightFormat format;
  std::string_view name;
};
constexpr FormatName kNames[] = {{WeightFormat::F32, "f32"},   {WeightFormat::BF16, "bf16"},
                                 {WeightFormat::F16, "f16"},   {WeightFormat::Q8_0, "q8_0"},
                                 {WeightFormat::Q4_0, "q4_0"}, {WeightFormat::Q4_1, "q4_1"},
                                 {WeightFormat::Q8_Ch, "q8_ch"}};

constexpr uint16_t kF16Max = 0x7BFF; // 65504

uint16_t load16(const uint8_t *p) { return uint16_t(p[0] | p[1] << 8); }
void store16(uint8_t *p, uint16_t v) { p[0] = uint8_t(v), p[1] = uint8_t(v >> 8); }

/// The smallest f16 >= value (value >= 0), at most 65504.
uint16_t f16AtLeast(float value) {
  uint16_t bits = floatToF16(value);
  if (bits >= kF16Max)
    return kF16Max;
  return f16ToFloat(bits) < value ? uint16_t(bits + 1) : bits;
}

/// The largest f16 <= value, at least -65504.
uint16_t f16AtMost(float value) {
  uint16_t bits = floatToF16(value);
  if ((bits & 0x7FFF) >= kF16Max)
    return bits & 0x8000 ? uint16_t(0x8000 | kF16Max) : kF16Max;
  if (f16ToFloat(bits) <= value)
    return bits;
  if (bits == 0)
    return 0x8001; // the negative number nearest to zero
  return bits & 0x8000 ? uint16_t(bits + 1) : uint16_t(bits - 1);
}

/// Blocks of 32 in a row of `columns` values, the last one possibly shorter.
int64_t blockCount(int64_t columns) { return (columns + kQuantBlock - 1) / kQuantBlock; }

int32_t roundClamped(float value, int32_t low, int32_t high) {
  return std::clamp(int32_t(std::nearbyint(value)), low, high);
}

float largestMagnitude(const float *values, int64_t count) {
  float best = 0;
  for (int64_t i = 0; i < count; ++i)
    best = std::abs(values[i]) > std::abs(best) ? values[i] : best;
  return best;
}

/// 4-bit values: value j of a block in the low nibble of byte j, j + 16 in the high one.
void packNibbles(const int32_t *q, int64_t count, uint8_t *out) {
  std::memset(out, 0, kQuantBlock / 2);
  for (int64_t j = 0; j < count; ++j)
    out[j % 16] |= uint8_t(q[j] << (j < 16 ? 0 : 4));
}
int32_t nibble(const uint8_t *packed, int64_t j) {
  return (packed[j % 16] >> (j < 16 ? 0 : 4)) & 0xF;
}

/// Bytes of a block's scale (and minimum) at the start of a row.
/// Quantizes one block of n <= 32 values: its header to `header`, its values to `quants`.
void quantizeBlock(WeightFormat format, const float *x, int64_t n, uint8_t *header,
                   uint8_t *quants) {
  int32_t q[kQuantBlock] = {};
  if (format == WeightFormat::Q8_0) {
    uint16_t d = f16AtLeast(std::abs(largestMagnitude(x, n)) / 127.0f);
    float scale = f16ToFloat(d);
    for (int64_t j = 0; j < n; ++j)
      quants[j] = uint8_t(int8_t(scale > 0 ? roundClamped(x[j] / scale, -127, 127) : 0));
    store16(header, d);
  } else if (format == WeightFormat::Q4_0) {
    uint16_t d = floatToF16(largestMagnitude(x, n) / -8.0f);
    float scale = f16ToFloat(d);
    for (int64_t j = 0; j < n; ++j)
      q[j] = scale != 0 ? roundClamped(x[j] / scale + 8.0f, 0, 15) : 8;
    store16(header, d);
    packNibbles(q, n, quants);
  } else { // q4_1
    uint16_t m = f16AtMost(*std::min_element(x, x + n));
    float low = f16ToFloat(m), high = *std::max_element(x, x + n);
    uint16_t d = f16AtLeast((high - low) / 15.0f);
    float scale = f16ToFloat(d);
    for (int64_t j = 0; j < n; ++j)
      q[j] = scale > 0 ? roundClamped((x[j] - low) / scale, 0, 15) : 0;
    store16(header, d);
    store16(header + 2, m);
    packNibbles(q, n, quants);
  }
}

void dequantizeBlock(WeightFormat format, const uint8_t *header, const uint8_t *quants,
                     int64_t n, float *out) {
  float scale = f16ToFloat(load16(header));
  for (int64_t j = 0; j < n; ++j) {
    if (format == WeightFormat::Q8_0)
      out[j] = scale * float(int8_t(quants[j]));
    else if (format == WeightFormat::Q4_0)
      out[j] = scale * float(nibble(quants, j) - 8);
    else
      out[j] = f16ToFloat(load16(header + 2)) + scale * float(nibble(quants, j));
  }
}

} // namespace

std::optional<WeightFormat> floatFormatOf(DType dtype) {
  switch (dtype) {
  case DType::F32: return WeightFormat::F32;
  case DType::BF16: return WeightFormat::BF16;
  case DType::F16: return WeightFormat::F16;
  default: return std::nullopt;
  }
}

DType dtypeOf(WeightFormat floatFormat) {
  assert(isFloatFormat(floatFormat) && "only float formats store a dtype");
  return floatFormat == WeightFormat::BF16  ? DType::BF16
         : floatFormat == WeightFormat::F16 ? DType::F16
                                            : DType::F32;
}

std::optional<WeightFormat> parseWeightFormat(std::string_view name) {
  for (const FormatName &entry : kNames)
    if (entry.name == name)
      return entry.format;
  return std::nullopt;
}

std::string_view weightFormatName(WeightFormat format) {
  for (const FormatName &entry : kNames)
    if (entry.format == format)
      return entry.name;
  return "?";
}

constexpr std::pair<ActivationFormat, std::string_view> kActivationNames[] = {
    {ActivationFormat::F32, "f32"},
    {ActivationFormat::Int8, "int8"},
    {ActivationFormat::BF16, "bf16"}};

std::optional<ActivationFormat> parseActivationFormat(std::string_view name) {
  for (auto [format, spelled] : kActivationNames)
    if (spelled == name)
      return format;
  return std::nullopt;
}

std::string_view activationFormatName(ActivationFormat format) {
  for (auto [entry, spelled] : kActivationNames)
    if (entry == format)
      return spelled;
  return "?";
}

std::string_view weightFormatNames() { return "f32, bf16, f16, q8_0, q4_0, q4_1, q8_ch"; }

uint16_t floatToF16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  uint16_t sign = uint16_t(bits >> 16 & 0x8000);
  uint32_t magnitude = bits & 0x7FFFFFFF;
  if (magnitude > 0x7F800000) // NaN stays NaN
    return uint16_t(sign | 0x7E00);
  if (magnitude >= 0x477FF000) // rounds to 65520 or more: infinity
    return uint16_t(sign | 0x7C00);
  if (magnitude < 0x38800000) { // below the smallest normal f16 (2^-14): a subnormal
    float scaled = std::abs(value) * 16777216.0f; // in units of 2^-24, exact
    return uint16_t(sign | uint16_t(std::nearbyint(scaled)));
  }
  uint32_t rounded = magnitude + 0xFFF + (magnitude >> 13 & 1); // to nearest, ties to even
  return uint16_t(sign | ((rounded - 0x38000000) >> 13));
}

RowLayout rowLayout(WeightFormat format, int64_t columns) {
  int64_t blocks = blockCount(columns);
  switch (format) {
  case WeightFormat::Q8_Ch: return {4, 4, kQuantBlock};
  case WeightFormat::Q8_0: return {2, 2 * blocks, kQuantBlock};
  case WeightFormat::Q4_1: return {4, 4 * blocks, kQuantBlock / 2};
  default: return {2, 2 * blocks, kQuantBlock / 2}; // q4_0
  }
}

uint64_t rowBytes(WeightFormat format, int64_t columns) {
  switch (format) {
  case WeightFormat::F32: return uint64_t(columns) * 4;
  case WeightFormat::BF16:
  case WeightFormat::F16: return uint64_t(columns) * 2;
  case WeightFormat::Q8_Ch:
  case WeightFormat::Q8_0: return uint64_t(rowLayout(format, columns).valuesOffset + columns);
  default: { // 4-bit: a short last block still takes 16 bytes
    RowLayout layout = rowLayout(format, columns);
    int64_t blocks = blockCount(columns);
    return uint64_t(layout.valuesOffset + blocks * layout.blockValueBytes);
  }
  }
}

void quantizeRow(WeightFormat format, const float *values, int64_t columns, uint8_t *out) {
  switch (format) {
  case WeightFormat::F32:
    std::memcpy(out, values, size_t(columns) * 4);
    return;
  case WeightFormat::BF16:
  case WeightFormat::F16:
    for (int64_t i = 0; i < columns; ++i) {
      uint32_t bits;
      std::memcpy(&bits, &values[i], 4);
      store16(out + 2 * i, format == WeightFormat::F16
                               ? floatToF16(values[i])
                               : uint16_t((bits + 0x7FFF + (bits >> 16 & 1)) >> 16));
    }
    return;
  case WeightFormat::Q8_Ch: {
    float scale = std::abs(largestMagnitude(values, columns)) / 127.0f;
    std::memcpy(out, &scale, 4);
    for (int64_t i = 0; i < columns; ++i)
      out[4 + i] = uint8_t(int8_t(scale > 0 ? roundClamped(values[i] / scale, -127, 127) : 0));
    return;
  }
  default:
    for (int64_t b = 0; b * kQuantBlock < columns; ++b) {
      RowLayout layout = rowLayout(format, columns);
      quantizeBlock(format, values + b * kQuantBlock,
                    std::min(kQuantBlock, columns - b * kQuantBlock), out + b * layout.scaleBytes,
                    out + layout.valuesOffset + b * layout.blockValueBytes);
    }
  }
}

void dequantizeRow(WeightFormat format, const uint8_t *data, int64_t columns, float *out) {
  switch (format) {
  case WeightFormat::F32: decodeToFloat(DType::F32, data, columns, out); return;
  case WeightFormat::BF16: decodeToFloat(DType::BF16, data, columns, out); return;
  case WeightFormat::F16: decodeToFloat(DType::F16, data, columns, out); return;
  case WeightFormat::Q8_Ch: {
    float scale;
    std::memcpy(&scale, data, 4);
    for (int64_t i = 0; i < columns; ++i)
      out[i] = scale * float(int8_t(data[4 + i]));
    return;
  }
  default:
    for (int64_t b = 0; b * kQuantBlock < columns; ++b) {
      RowLayout layout = rowLayout(format, columns);
      dequantizeBlock(format, data + b * layout.scaleBytes,
                      data + layout.valuesOffset + b * layout.blockValueBytes,
                      std::min(kQuantBlock, columns - b * kQuantBlock), out + b * kQuantBlock);
    }
  }
}

void storeRows(DType source, const uint8_t *data, int64_t rows, int64_t columns,
               WeightFormat format, uint8_t *out, int64_t tileRowCount) {
  if (storesAsIs(source, format)) {
    std::memcpy(out, data, size_t(rows * columns) * dtypeSize(source));
    return;
  }
  std::vector<float> row(static_cast<size_t>(columns));
  for (int64_t r = 0; r < rows; ++r) {
    decodeToFloat(source, data + r * columns * dtypeSize(source), columns, row.data());
    quantizeRow(format, row.data(), columns, out + r * rowBytes(format, columns));
  }
  if (tileRowCount)
    tileRows(format, columns, tileRowCount, rows, out);
}

bool canTileRows(WeightFormat format, int64_t columns) {
  return (format == WeightFormat::Q8_0 || format == WeightFormat::Q4_0) &&
         columns % kQuantBlock == 0;
}

int64_t tiledScaleByte(WeightFormat format, int64_t columns, int64_t tileRows, int64_t row,
                       int64_t block) {
  RowLayout layout = rowLayout(format, columns);
  return block * tileRows * (layout.scaleBytes + layout.blockValueBytes) +
         row * layout.scaleBytes;
}

int64_t tiledValueByte(WeightFormat format, int64_t columns, int64_t tileRows, int64_t row,
                       int64_t block, int64_t byte) {
  constexpr int64_t kPiece = 16;
  RowLayout layout = rowLayout(format, columns);
  int64_t half = tileRows / 2, pieces = layout.blockValueBytes / kPiece;
  int64_t piece = (row / half * pieces + byte / kPiece) * half + row % half;
  return tiledScaleByte(format, columns, tileRows, tileRows, block) + piece * kPiece +
         byte % kPiece;
}

void tileRows(WeightFormat format, int64_t columns, int64_t tileRowCount, int64_t rows,
              uint8_t *data) {
  RowLayout layout = rowLayout(format, columns);
  uint64_t rowSize = rowBytes(format, columns);
  std::vector<uint8_t> tile(size_t(tileRowCount) * rowSize);
  for (int64_t first = 0; first < rows; first += tileRowCount) {
    uint8_t *rowsOfTile = data + uint64_t(first) * rowSize;
    for (int64_t r = 0; r < tileRowCount; ++r)
      for (int64_t b = 0; b < columns / kQuantBlock; ++b) {
        const uint8_t *row = rowsOfTile + uint64_t(r) * rowSize;
        std::memcpy(&tile[size_t(tiledScaleByte(format, columns, tileRowCount, r, b))],
                    row + b * layout.scaleBytes, size_t(layout.scaleBytes));
        for (int64_t byte = 0; byte < layout.blockValueBytes; byte += 16)
          std::memcpy(&tile[size_t(tiledValueByte(format, columns, tileRowCount, r, b, byte))],
                      row + layout.valuesOffset + b * layout.blockValueBytes + byte, 16);
      }
    std::memcpy(rowsOfTile, tile.data(), tile.size());
  }
}

int64_t activationRowBytes(int64_t columns) {
  int64_t blocks = blockCount(columns);
  return blocks * int64_t(sizeof(float)) * (1 + kActivationCorrections) + blocks * kQuantBlock;
}

void quantizeActivations(const float *values, int64_t columns, uint8_t *out) {
  int64_t blocks = blockCount(columns), rowBytes = activationRowBytes(columns);
  uint8_t *corrections = out + activationCorrectionsOffset(rowBytes);
  uint8_t *quants = out + activationValuesOffset(rowBytes);
  std::memset(quants, 0, size_t(blocks * kQuantBlock));
  for (int64_t b = 0; b < blocks; ++b) {
    const float *x = values + b * kQuantBlock;
    int64_t n = std::min(kQuantBlock, columns - b * kQuantBlock);
    float amax = 0;
    for (int64_t j = 0; j < n; ++j)
      amax = std::max(amax, std::abs(x[j]));
    float d = amax / 127.0f, inverse = d != 0 ? 1.0f / d : 0.0f;
    std::memcpy(out + b * sizeof(float), &d, sizeof(float));
    int32_t c[kActivationCorrections] = {};
    for (int64_t j = 0; j < n; ++j) { // |x * inverse| <= 127 up to rounding, never past 127.5
      auto q = int8_t(std::nearbyint(x[j] * inverse));
      quants[b * kQuantBlock + j] = uint8_t(q);
      c[j % 16 / 4] -= 8 * q;
    }
    std::memcpy(corrections + b * sizeof(c), c, sizeof(c));
  }
}

void roundTripActivations(ActivationFormat format, float *values, int64_t columns) {
  if (format == ActivationFormat::BF16)
    return roundTripRow(WeightFormat::BF16, values, columns);
  if (format != ActivationFormat::Int8)
    return;
  std::vector<uint8_t> stored(size_t(activationRowBytes(columns)));
  quantizeActivations(values, columns, stored.data());
  const uint8_t *quants = stored.data() + activationValuesOffset(int64_t(stored.size()));
  for (int64_t i = 0; i < columns; ++i) {
    float d;
    std::memcpy(&d, stored.data() + i / kQuantBlock * sizeof(float), sizeof(float));
    values[i] = d * float(int8_t(quants[i]));
  }
}

void roundTripRow(WeightFormat format, float *values, int64_t columns) {
  std::vector<uint8_t> stored(rowBytes(format, columns));
  quantizeRow(format, values, columns, stored.data());
  dequantizeRow(format, stored.data(), columns, values);
}

} // namespace gemc
