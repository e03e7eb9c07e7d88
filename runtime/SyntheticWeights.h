//===- SyntheticWeights.h - Deterministic stand-in weights ------------------===//
//
// `gemc compile DIR --synthetic-weights SEED` needs only DIR/config.json and writes an artifact
// without a weights section: its manifest lists every tensor (format, shape, offset) and the
// seed, and the runtime fills the weights at load time. This is how a model of any size is
// benchmarked without its 10-60 GB of weights. The values are pseudo-random, the same for the
// same seed on every machine and thread count (each row has its own generator state), and
// sized so that activations stay near unit scale through every layer: a matrix of C columns is
// uniform in [-a, a] with a = sqrt(3 / C) (unit-variance outputs for unit-variance inputs), a
// vector (norm gains, scalars) is 1 + uniform [-1/8, 1/8]. Quantized formats get their bytes
// directly: random codes under a block scale that spans the same range, never denormals or
// NaN, so generation runs at memory speed.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/common/WeightFormat.h"

#include <cstdint>
#include <string_view>

namespace gemc {

/// One tensor of a synthetic artifact: `rows` rows of `columns` values stored in `format`
/// (rowBytes each) at `data`, in tiles of `tileRows` rows if not 0 (WeightFormat.h); `vector`
/// for rank-1 tensors.
struct SyntheticTensor {
  std::string_view name;
  WeightFormat format;
  int64_t rows, columns;
  bool vector;
  uint8_t *data;
  int64_t tileRows = 0;
};

/// Writes rows [firstRow, endRow) of `tensor` for `seed` (whole tiles if it has them).
void fillSyntheticRows(const SyntheticTensor &tensor, uint64_t seed, int64_t firstRow,
                       int64_t endRow);

/// The bound a of a tensor's values: each value lies in [-a, a] (matrices) or [1 - a, 1 + a]
/// (vectors), whatever the format.
float syntheticValueBound(const SyntheticTensor &tensor);

} // namespace gemc
