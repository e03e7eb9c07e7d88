//===- SafeTensors.h - Memory-mapped safetensors files ------------------===//
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of JSON describing each
// tensor (dtype, shape, [begin, end) byte offsets into the data section), then the data section.
// SafeTensorsFile maps the file and validates the whole header before anything is read: sizes,
// dtypes, offsets inside the data section, byte counts that match the shapes, no overlaps. Tensor
// data is never copied: TensorInfo points into the mapping.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/common/TensorView.h"

#include <llvm/ADT/StringMap.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gemc {

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr; // into the file's mapping
  uint64_t numBytes = 0;
  const std::string *file = nullptr; // the path of the file holding it, for messages
  bool fileMapped = false;           // data is a file mapping (not a heap copy)

  int64_t numElements() const;
  /// The shape as "[2, 3]".
  std::string shapeString() const;
  TensorView view() const { return {dtype, shape, data}; }
};

/// The tensor's view, or nullopt for a tensor not found: adapts a checkpoint's find() to the
/// reference interpreter's weight lookup.
std::optional<TensorView> viewOf(const TensorInfo *tensor);

/// Lets the kernel drop the pages of bytes [begin, begin + size) of the tensor from this
/// process's memory (they are re-read from the file if touched again): a compile that streams a
/// tensor once keeps no copy resident.
void releaseMappedPages(const TensorInfo &tensor, uint64_t begin, uint64_t size);

/// An error naming the file, the tensor and the element when elements [first, first + count)
/// of a weight-dtype tensor hold a NaN or an infinity: a damaged checkpoint, which would
/// otherwise compute NaN logits without a word.
llvm::Error checkFinite(const TensorInfo &tensor, int64_t first, int64_t count);

class SafeTensorsFile {
public:
  /// Maps and validates the file at `path`.
  static llvm::Expected<std::unique_ptr<SafeTensorsFile>> open(const std::string &path);
  /// Validates an in-memory file; `path` only names it in messages.
  static llvm::Expected<std::unique_ptr<SafeTensorsFile>>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer, const std::string &path);

  const std::string &path() const { return path_; }
  const std::vector<TensorInfo> &tensors() const { return tensors_; }
  const TensorInfo *find(llvm::StringRef name) const;

private:
  SafeTensorsFile() = default;
  llvm::Error parseHeader();

  std::string path_;
  std::unique_ptr<llvm::MemoryBuffer> buffer_;
  std::vector<TensorInfo> tensors_;
  llvm::StringMap<size_t> index_;
};

} // namespace gemc
