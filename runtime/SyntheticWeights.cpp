//===- SyntheticWeights.cpp - Deterministic stand-in weights ----------------===//

#include "runtime/SyntheticWeights.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace gemc {
namespace {

/// SplitMix64: a fast generator whose whole state is one word, so that each row can start its
/// own from (seed, tensor, row).
struct RowRandom {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [-1, 1).
  float symmetric() { return float(int32_t(uint32_t(next() >> 32))) * 0x1p-31f; }
};

uint64_t nameHash(std::string_view name) { // FNV-1a
  uint64_t hash = 0xCBF29CE484222325ull;
  for (char c : name)
    hash = (hash ^ uint8_t(c)) * 0x100000001B3ull;
  return hash;
}

void fillFloatRow(const SyntheticTensor &t, RowRandom &random, float bound, uint8_t *row) {
  thread_local std::vector<float> values;
  values.resize(size_t(t.columns));
  for (float &value : values)
    value = (t.vector ? 1.0f : 0.0f) + bound * random.symmetric();
  quantizeRow(t.format, values.data(), t.columns, row); // rounds to bf16 or f16
}

/// Random codes under scales that span [-bound, bound] (vectors: around 1 as well, through
/// q4_1's minimum; the other formats keep vectors in [-bound, bound], which benchmarks alike).
void fillQuantizedRow(const SyntheticTensor &t, RowRandom &random, float bound, uint8_t *row) {
  RowLayout layout = rowLayout(t.format, t.columns);
  int64_t blocks = (t.columns + kQuantBlock - 1) / kQuantBlock;
  auto putF16 = [&](uint8_t *at, float value) {
    uint16_t bits = floatToF16(value);
    std::memcpy(at, &bits, 2);
  };
  switch (t.format) {
  case WeightFormat::Q8_Ch: {
    float scale = bound / 127;
    std::memcpy(row, &scale, 4);
    break;
  }
  case WeightFormat::Q4_1:
    for (int64_t b = 0; b < blocks; ++b) {
      putF16(row + b * layout.scaleBytes, 2 * bound / 15);
      putF16(row + b * layout.scaleBytes + 2, (t.vector ? 1.0f : 0.0f) - bound);
    }
    break;
  default: // q8_0, q4_0
    for (int64_t b = 0; b < blocks; ++b)
      putF16(row + b * layout.scaleBytes, t.format == WeightFormat::Q8_0 ? bound / 127 : bound / 8);
  }
  uint8_t *values = row + layout.valuesOffset;
  uint64_t valueBytes = rowBytes(t.format, t.columns) - uint64_t(layout.valuesOffset);
  for (uint64_t i = 0; i < valueBytes; i += 8) {
    uint64_t bits = random.next();
    std::memcpy(values + i, &bits, valueBytes - i < 8 ? valueBytes - i : 8);
  }
  if (t.format == WeightFormat::Q8_0 || t.format == WeightFormat::Q8_Ch)
    for (uint64_t i = 0; i < valueBytes; ++i) // -128 would reach past -bound
      if (values[i] == 0x80)
        values[i] = 0x81;
}

} // namespace

float syntheticValueBound(const SyntheticTensor &tensor) {
  return tensor.vector ? 0.125f : std::sqrt(3.0f / float(tensor.columns));
}

void fillSyntheticRows(const SyntheticTensor &tensor, uint64_t seed, int64_t firstRow,
                       int64_t endRow) {
  float bound = syntheticValueBound(tensor);
  uint64_t bytes = rowBytes(tensor.format, tensor.columns);
  uint64_t tensorSeed = seed ^ nameHash(tensor.name);
  for (int64_t r = firstRow; r < endRow; ++r) {
    RowRandom random{tensorSeed + 0x632BE59BD9B4E019ull * uint64_t(r)};
    uint8_t *row = tensor.data + uint64_t(r) * bytes;
    if (isFloatFormat(tensor.format))
      fillFloatRow(tensor, random, bound, row);
    else
      fillQuantizedRow(tensor, random, bound, row);
  }
  if (tensor.tileRows)
    tileRows(tensor.format, tensor.columns, tensor.tileRows, endRow - firstRow,
             tensor.data + uint64_t(firstRow) * bytes);
}

} // namespace gemc
