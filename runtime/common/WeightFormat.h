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
// A stored row is what the generated kernels read (rowBytes): the block formats keep every
// block's scale (and minimum) first and the values after them, so the values of a row are one
// contiguous run that vectors of any width read without gathers, and a 4-bit block's 16 bytes
// hold values j and j + 16 in one byte, so one load of w <= 16 bytes and a mask or a shift give
// w consecutive values on every target (AVX-512: 16, AVX2: 8, NEON: 4 lanes).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/common/DType.h"

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

/// Bytes of one row of `columns` values in B = ceil(columns / 32) blocks:
///   q8_0   [B x f16 d][columns x int8]
///   q4_0   [B x f16 d][B x 16 bytes: value j of the block in the low nibble of byte j, value
///          j + 16 in the high nibble]
///   q4_1   [B x (f16 d, f16 m)][B x 16 bytes, as q4_0]
///   q8_ch  [f32 d][columns x int8]
/// all little-endian; the float formats are plain arrays.
uint64_t rowBytes(WeightFormat format, int64_t columns);

/// Where the parts of a stored row of a quantized format lie (the layout rowBytes describes),
/// for the code that writes rows and the kernels that read them: block b's scale (and minimum)
/// at byte b * scaleBytes (q8_ch: the row's one scale at 0), values from valuesOffset, block
/// b's values at valuesOffset + b * blockValueBytes.
struct RowLayout {
  int64_t scaleBytes;      // q8_0, q4_0: an f16; q4_1: two f16; q8_ch: one f32 per row
  int64_t valuesOffset;    // the scales of every block come first
  int64_t blockValueBytes; // 8-bit: 32, 4-bit: 16 (two values a byte)
};
RowLayout rowLayout(WeightFormat quantizedFormat, int64_t columns);

/// f32, bf16 and f16 store plain values; the others store quantized blocks or rows.
inline bool isFloatFormat(WeightFormat format) {
  return format == WeightFormat::F32 || format == WeightFormat::BF16 ||
         format == WeightFormat::F16;
}

/// Rounded activations (opt-in, QuantConfig.h): what a projection's input is rounded to before
/// the product, so that CPUs can use their dot product instructions.
/// - int8, for quantized weights, as llama.cpp's q8_0 activations (integer dot products): each
///   token's row of the projection's input is cut into blocks of 32 values, and block values x
///   become d * q with d = amax / 127 in f32 and q = x * (1 / d) rounded half to even (q = 0
///   when d is 0). The products are exact integers, their scaled sum an f32 one.
/// - bf16, for bf16 weights (vdpbf16ps): each value rounded to bf16, to nearest, ties to even.
///   Products of two bf16 values are exact in f32.
/// Every target and the oracle round their own x the same way.
enum class ActivationFormat { F32, Int8, BF16 };
/// "f32", "int8", "bf16".
std::optional<ActivationFormat> parseActivationFormat(std::string_view name);
std::string_view activationFormatName(ActivationFormat format);
/// Whether `activations` rounds the input of a projection by a weight in `weightFormat`.
inline bool roundsActivationsFor(ActivationFormat activations, WeightFormat weightFormat) {
  return activations == ActivationFormat::Int8   ? !isFloatFormat(weightFormat)
         : activations == ActivationFormat::BF16 ? weightFormat == WeightFormat::BF16
                                                 : false;
}
/// Bytes of a row of `columns` quantized activations, as `exec.quantize_rows` stores it:
/// [B x f32 d][B x 4 x i32 c][B x 32 int8], the values of the last block padded with zeros, so
/// that a block's values are always 32 whole bytes. c_k = -8 * (the sum of the block's values
/// 4k..4k+3 and 16+4k..16+4k+3): the correction that integer dot products of unsigned weights
/// (q4_0's nibbles q for q - 8; q8_0's q + 128, with 16 c_k) add to each lane that sums four
/// products of either half of a block (k = lane % 4). It is the same for every weight row.
int64_t activationRowBytes(int64_t columns);
constexpr int64_t kActivationCorrections = 4;
/// Where the blocks' corrections of such a row of `rowBytes` bytes start: after their scales.
constexpr int64_t activationCorrectionsOffset(int64_t rowBytes) {
  return rowBytes / (int64_t(sizeof(float)) * (1 + kActivationCorrections) + kQuantBlock) *
         int64_t(sizeof(float));
}
/// Where its int8 values start: after the corrections.
constexpr int64_t activationValuesOffset(int64_t rowBytes) {
  return (1 + kActivationCorrections) * activationCorrectionsOffset(rowBytes);
}
void quantizeActivations(const float *values, int64_t columns, uint8_t *out);
/// The values a row of activations stands for once rounded to `format`.
void roundTripActivations(ActivationFormat format, float *values, int64_t columns);

void quantizeRow(WeightFormat format, const float *values, int64_t columns, uint8_t *out);
void dequantizeRow(WeightFormat format, const uint8_t *data, int64_t columns, float *out);

/// The float format that stores a weight dtype's values as they are (bf16: BF16, f16: F16,
/// f32: F32), or nullopt for the other dtypes; and back, the dtype of a float format. The one
/// mapping between checkpoint dtypes and formats (the dialect maps element types through it).
std::optional<WeightFormat> floatFormatOf(DType dtype);
DType dtypeOf(WeightFormat floatFormat);

/// True when `format` stores values exactly as the checkpoint dtype `source` does.
inline bool storesAsIs(DType source, WeightFormat format) {
  return floatFormatOf(source) == format;
}

/// Row tiles: a matrix of q8_0 or q4_0 rows of whole blocks may be stored in tiles of
/// `tileRows` (even) consecutive rows, as the CPU's integer dot products read them
/// (KernelBuilder::integerDots), so that a tile streams from memory in one sequential read.
/// A tile takes the bytes of its rows, reordered block by block: the tile's scales (row
/// order), then the block's values in pieces of 16 bytes (q4_0: one a row, q8_0: two), for
/// each half of the tile (its first tileRows / 2 rows, then the others): piece 0 of each row of
/// the half, then piece 1 of each. tileRows 0 keeps the row layout.
bool canTileRows(WeightFormat format, int64_t columns);
/// Byte `byte` of block `block`'s values of row `row` of a tile, from the tile's start.
int64_t tiledValueByte(WeightFormat format, int64_t columns, int64_t tileRows, int64_t row,
                       int64_t block, int64_t byte);
/// Byte offset of the scale of block `block` of row `row` of a tile, from the tile's start.
int64_t tiledScaleByte(WeightFormat format, int64_t columns, int64_t tileRows, int64_t row,
                       int64_t block);

/// Stores `rows` rows of `columns` checkpoint values of dtype `source` (bf16, f16 or f32) in
/// `format`, rowBytes(format, columns) bytes each, in tiles of `tileRows` rows when it is not 0
/// (then `rows` is whole tiles). Bytes are copied when nothing changes.
void storeRows(DType source, const uint8_t *data, int64_t rows, int64_t columns,
               WeightFormat format, uint8_t *out, int64_t tileRows = 0);
/// Reorders `rows` rows (whole tiles) in the row layout into tiles of `tileRows`, in place.
void tileRows(WeightFormat format, int64_t columns, int64_t tileRows, int64_t rows,
              uint8_t *data);

/// The values `values` stands for once stored in `format` (quantize, then dequantize).
void roundTripRow(WeightFormat format, float *values, int64_t columns);

/// f32 to f16 bits, to nearest with ties to even (overflow to infinity).
uint16_t floatToF16(float value);

} // namespace gemc
