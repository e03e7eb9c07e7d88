//===- TensorView.h - A weight tensor's dtype, shape and bytes ------------===//
//
// How the layers past the frontends see a weight: the reference interpreter and the compiler's
// tests read weights through this view, whatever holds the bytes (a mapped safetensors file, a
// test's buffer), so they do not depend on the checkpoint reader.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/common/DType.h"

#include <cstdint>
#include <span>
#include <string>

namespace gemc {

struct TensorView {
  DType dtype = DType::F32;
  std::span<const int64_t> shape;
  const uint8_t *data = nullptr;

  int64_t numElements() const {
    int64_t count = 1;
    for (int64_t dim : shape)
      count *= dim;
    return count;
  }
};

/// The shape as "[2, 3]".
inline std::string formatShape(std::span<const int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

} // namespace gemc
