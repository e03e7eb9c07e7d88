//===- DType.cpp - Tensor element types of safetensors files -------------===//

#include "runtime/common/DType.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstring>

namespace gemc {
namespace {
struct DTypeInfo {
  DType dtype;
  std::string_view name;
  unsigned size;
};
constexpr std::array<DTypeInfo, 15> kDTypes = {{
    {DType::BF16, "BF16", 2}, {DType::F16, "F16", 2},       {DType::F32, "F32", 4},
    {DType::F64, "F64", 8},   {DType::F8E4M3, "F8_E4M3", 1}, {DType::F8E5M2, "F8_E5M2", 1},
    {DType::I8, "I8", 1},     {DType::I16, "I16", 2},        {DType::I32, "I32", 4},
    {DType::I64, "I64", 8},   {DType::U8, "U8", 1},          {DType::U16, "U16", 2},
    {DType::U32, "U32", 4},   {DType::U64, "U64", 8},        {DType::Bool, "BOOL", 1},
}};
} // namespace

std::optional<DType> parseDType(std::string_view name) {
  for (const DTypeInfo &info : kDTypes)
    if (info.name == name)
      return info.dtype;
  return std::nullopt;
}

std::string_view dtypeName(DType dtype) { return kDTypes[size_t(dtype)].name; }
unsigned dtypeSize(DType dtype) { return kDTypes[size_t(dtype)].size; }

float f16ToFloat(uint16_t bits) {
  int sign = (bits >> 15) ? -1 : 1;
  int exponent = (bits >> 10) & 0x1f;
  int mantissa = bits & 0x3ff;
  if (exponent == 0)
    return sign * std::ldexp(float(mantissa), -24);
  if (exponent == 31)
    return mantissa ? NAN : sign * INFINITY;
  return sign * std::ldexp(float(mantissa | 0x400), exponent - 25);
}

void decodeToFloat(DType dtype, const uint8_t *data, int64_t count, float *out) {
  assert(isWeightDType(dtype) && "only bf16, f16 and f32 decode to float");
  for (int64_t i = 0; i < count; ++i) {
    if (dtype == DType::F32) {
      std::memcpy(&out[i], data + 4 * i, 4);
      continue;
    }
    uint16_t bits;
    std::memcpy(&bits, data + 2 * i, 2);
    out[i] = dtype == DType::BF16 ? bf16ToFloat(bits) : f16ToFloat(bits);
  }
}

namespace {
/// findNonFinite for one width: an element is NaN or infinite when its exponent bits are all
/// ones. Blocks of 256 are tested branch-free (vectorizable) before the slow search.
template <typename Bits>
int64_t findAllOnes(const uint8_t *data, int64_t count, Bits exponent) {
  constexpr int64_t kBlock = 256;
  for (int64_t begin = 0; begin < count; begin += kBlock) {
    int64_t end = std::min(count, begin + kBlock);
    Bits block[kBlock];
    std::memcpy(block, data + begin * sizeof(Bits), size_t(end - begin) * sizeof(Bits));
    bool any = false;
    for (int64_t i = 0; i < end - begin; ++i)
      any |= (block[i] & exponent) == exponent;
    if (any)
      for (int64_t i = 0; i < end - begin; ++i)
        if ((block[i] & exponent) == exponent)
          return begin + i;
  }
  return -1;
}
} // namespace

int64_t findNonFinite(DType dtype, const uint8_t *data, int64_t count) {
  switch (dtype) {
  case DType::BF16: return findAllOnes<uint16_t>(data, count, 0x7F80);
  case DType::F16: return findAllOnes<uint16_t>(data, count, 0x7C00);
  case DType::F32: return findAllOnes<uint32_t>(data, count, 0x7F800000);
  default: return -1;
  }
}

} // namespace gemc
