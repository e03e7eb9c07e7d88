//===- WeightFormat.h - What a quantized weight means ---------------------===//
//
// The formats a weight can be compiled to, and the value each stored weight stands for. Every
// format works row by row (a row: one output channel of a projection, one token of an embedding
// table), so a row can be decoded alone. Block formats cut a row into blocks of 32 values; the
// last block of a row whose length is not a multiple of 32 is shorter.
//
//   f32, bf16, f16  the value, rounded to the type (to nearest, ties to even)
//   q8_0   per block: f16 scale d, 32 int8 q; value = d * q. d is amax / 127 rounded up to an
//          f16, so no value is clipped and the error is at most d / 2.
//   q4_0   per block: f16 scale d, 32 4-bit q in [0, 15]; value = d * (q - 8). d = m / -8 for
//          the value m of largest magnitude (as llama.cpp), so m is exact and q = 16 clips to 15.
//   q4_1   per block: f16 scale d, f16 minimum m, 32 4-bit q; value = m + d * q, with m the
//          block's minimum rounded down to an f16 and d = (max - m) / 15 rounded up.
//   q8_ch  per row: f32 scale d, int8 q; value = d * q, d = amax / 127.
// Quantized values are stored as the byte layouts below (rowBytes per row); how the compiler
// packs them for a target's vector width is a separate matter.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gemc {

enum class WeightFormat { F32, BF16, F16, Q8_0, Q4_0, Q4_1, Q8_Ch };

constexpr int64_t kQuantBlock = 32;

/// The command-line spelling ("q4_0"), or nullopt.
std::optional<WeightFormat> parseWeightFormat(std::string_view name);
std::string_view weightFormatName(WeightFormat format);
/// The spellings of every format, comma-separated, for error messages.
std::string_view weightFormatNames();

/// Bytes of one row of `columns` values. Block layouts: q8_0 [f16 d][32 x int8], q4_0 [f16 d]
/// [16 bytes: value j in the low nibble of byte j, value j + 16 in the high nibble], q4_1
/// [f16 d][f16 m][16 bytes, as q4_0]; q8_ch [f32 d][columns x int8].
uint64_t rowBytes(WeightFormat format, int64_t columns);

void quantizeRow(WeightFormat format, const float *values, int64_t columns, uint8_t *out);
void dequantizeRow(WeightFormat format, const uint8_t *data, int64_t columns, float *out);

/// The values `values` stands for once stored in `format` (quantize, then dequantize).
void roundTripRow(WeightFormat format, float *values, int64_t columns);

/// f32 to f16 bits, to nearest with ties to even (overflow to infinity).
uint16_t floatToF16(float value);

} // namespace gemc
