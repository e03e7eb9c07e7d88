//===- Interpreter.h - Reference interpreter of the gemma dialect ---------===//
//
// Executes the forward function of a gemma module in plain C++: activations in f32, every dot
// product, norm and softmax accumulated in double, exact tanh-GELU, weights decoded from the
// checkpoint on use. It is the oracle every backend is checked against (design.md invariant 5),
// so it favours being obviously correct over being fast: no caching beyond the KV cache the model
// itself needs, no tiling, no threads.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/common/TensorView.h"

#include <mlir/Dialect/Func/IR/FuncOps.h>

#include <functional>
#include <map>
#include <vector>

namespace gemc::gemma {

/// A dense row-major f32 tensor.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> dims);
  int64_t rows() const { return shape[0]; }
  int64_t rowSize() const { return int64_t(data.size()) / shape[0]; }
  float *row(int64_t i) { return data.data() + i * rowSize(); }
  const float *row(int64_t i) const { return data.data() + i * rowSize(); }
};

/// Finds a weight by name (a checkpoint's tensor, a test's buffer); nullopt if absent.
using WeightLookup = std::function<std::optional<TensorView>(llvm::StringRef name)>;

class Interpreter {
public:
  /// `forward` has the signature (tensor<?xi32> ids, index start_pos) -> tensor<?xVxf32>. A
  /// weight with a `format` has the values that format stores: each row quantized and decoded.
  Interpreter(mlir::func::FuncOp forward, WeightLookup weights);

  /// Evaluates `ids` at positions position() .. position() + ids.size() - 1, appending to the
  /// KV caches, and returns the logits, one row per token. A forward function that takes media
  /// reads `media`: one soft token per media placeholder id of `ids`, in order.
  llvm::Expected<Tensor> run(llvm::ArrayRef<int32_t> ids, const Tensor &media = Tensor());
  /// The number of positions already in the KV caches.
  int64_t position() const { return position_; }

  /// Evaluates a vision encoder (importVisionEncoder's encode_image) on one image's patches:
  /// `pixels` [N, P] and `positions` N x (column, row); returns its soft tokens.
  static llvm::Expected<Tensor> encodeImage(mlir::func::FuncOp encoder, WeightLookup weights,
                                            const Tensor &pixels,
                                            llvm::ArrayRef<int32_t> positions);
  /// Evaluates an audio encoder (importAudioEncoder's encode_audio) on one clip's valid log-mel
  /// frames [T, 128]; returns its soft tokens.
  static llvm::Expected<Tensor> encodeAudio(mlir::func::FuncOp encoder, WeightLookup weights,
                                            const Tensor &features);

  /// K/V of one layer for every position so far, row-major [position][kv head][head dim].
  struct KvCache {
    int64_t kvHeads = 0, headDim = 0;
    std::vector<float> keys, values;
    int64_t length() const { return int64_t(keys.size()) / (kvHeads * headDim); }
  };

private:
  class Frame;

  mlir::func::FuncOp forward_;
  WeightLookup weights_;
  std::map<int64_t, KvCache> caches_; // by layer
  int64_t position_ = 0;
};

/// Index of the largest value; ties go to the lower index.
int64_t argmax(const float *values, int64_t count);

} // namespace gemc::gemma
