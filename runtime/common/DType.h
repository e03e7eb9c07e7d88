//===- DType.h - Tensor element types of safetensors files --------------===//
//
// The safetensors dtype names, their sizes, and the conversion of the three floating-point
// weight types gemc computes with (bf16, f16, f32) to float. Upcasting bf16 and f16 to f32 is
// exact, so the reference interpreter sees the checkpoint's values unchanged.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace gemc {

enum class DType : uint8_t {
  BF16, F16, F32, F64, F8E4M3, F8E5M2, I8, I16, I32, I64, U8, U16, U32, U64, Bool
};

/// The dtype spelled as in a safetensors header ("BF16"), or nullopt if unknown.
std::optional<DType> parseDType(std::string_view name);
std::string_view dtypeName(DType dtype);
unsigned dtypeSize(DType dtype);
/// True for the dtypes gemc accepts for weights: bf16, f16 and f32.
inline bool isWeightDType(DType dtype) {
  return dtype == DType::BF16 || dtype == DType::F16 || dtype == DType::F32;
}

inline float bf16ToFloat(uint16_t bits) {
  uint32_t wide = uint32_t(bits) << 16;
  float value;
  std::memcpy(&value, &wide, sizeof(value));
  return value;
}

float f16ToFloat(uint16_t bits);

/// Converts `count` consecutive elements of a weight dtype starting at `data` to float. `data`
/// need not be aligned.
void decodeToFloat(DType dtype, const uint8_t *data, int64_t count, float *out);

/// The index of the first NaN or infinity among `count` elements of a weight dtype at `data`,
/// or -1 if all are finite.
int64_t findNonFinite(DType dtype, const uint8_t *data, int64_t count);

} // namespace gemc
