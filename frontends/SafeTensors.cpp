//===- SafeTensors.cpp - Memory-mapped safetensors files -----------------===//

#include "frontends/SafeTensors.h"

#include "runtime/common/Error.h"
#include "frontends/JsonFields.h"

#include <llvm/Support/JSON.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

namespace gemc {
namespace {
// The safetensors format caps its header at 100 MB; a larger length is a damaged file.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

std::string describe(const llvm::json::Value &value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << value;
  if (text.size() > 40)
    text = text.substr(0, 37) + "...";
  return text;
}

/// Reads a JSON array of non-negative integers, or returns nullopt.
std::optional<std::vector<int64_t>> readNonNegativeInts(const llvm::json::Value *value) {
  const llvm::json::Array *array = value ? value->getAsArray() : nullptr;
  if (!array)
    return std::nullopt;
  std::vector<int64_t> out;
  for (const llvm::json::Value &item : *array) {
    std::optional<int64_t> number = item.getAsInteger();
    if (!number || *number < 0)
      return std::nullopt;
    out.push_back(*number);
  }
  return out;
}

/// Multiplies the shape out, or returns nullopt on overflow past 2^62.
std::optional<uint64_t> checkedElementCount(const std::vector<int64_t> &shape) {
  uint64_t count = 1;
  for (int64_t dim : shape) {
    if (dim != 0 && count > (uint64_t(1) << 62) / uint64_t(dim))
      return std::nullopt;
    count *= uint64_t(dim);
  }
  return count;
}
} // namespace

int64_t TensorInfo::numElements() const { return view().numElements(); }

std::optional<TensorView> viewOf(const TensorInfo *tensor) {
  return tensor ? std::optional(tensor->view()) : std::nullopt;
}

void releaseMappedPages(const TensorInfo &tensor, uint64_t offset, uint64_t size) {
  if (!tensor.fileMapped) // MADV_DONTNEED would zero heap memory
    return;
  uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  uintptr_t begin = (uintptr_t(tensor.data) + offset) / page * page;
  uintptr_t end = (uintptr_t(tensor.data) + offset + size + page - 1) / page * page;
  // Advice only: a failure (say, for a buffer that is not a file mapping) changes nothing.
  (void)madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
}

llvm::Error checkFinite(const TensorInfo &tensor, int64_t first, int64_t count) {
  int64_t bad = findNonFinite(tensor.dtype, tensor.data + first * dtypeSize(tensor.dtype), count);
  if (bad < 0)
    return llvm::Error::success();
  int64_t columns = tensor.shape.empty() ? 1 : std::max<int64_t>(tensor.shape.back(), 1);
  float value;
  decodeToFloat(tensor.dtype, tensor.data + (first + bad) * dtypeSize(tensor.dtype), 1, &value);
  return makeError("{}: tensor '{}' holds {} at row {}, column {}: the checkpoint is damaged",
                   *tensor.file, tensor.name, value, (first + bad) / columns,
                   (first + bad) % columns);
}

std::string TensorInfo::shapeString() const { return formatShape(shape); }

llvm::Expected<std::unique_ptr<SafeTensorsFile>> SafeTensorsFile::open(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError("{}: cannot open: {}", path, buffer.getError().message());
  return parse(std::move(*buffer), path);
}

llvm::Expected<std::unique_ptr<SafeTensorsFile>>
SafeTensorsFile::parse(std::unique_ptr<llvm::MemoryBuffer> buffer, const std::string &path) {
  std::unique_ptr<SafeTensorsFile> file(new SafeTensorsFile());
  file->path_ = path;
  file->buffer_ = std::move(buffer);
  if (llvm::Error error = file->parseHeader())
    return error;
  return file;
}

const TensorInfo *SafeTensorsFile::find(llvm::StringRef name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

llvm::Error SafeTensorsFile::parseHeader() {
  const auto *bytes = reinterpret_cast<const uint8_t *>(buffer_->getBufferStart());
  uint64_t fileSize = buffer_->getBufferSize();
  if (fileSize < 8)
    return makeError("{}: truncated: {} bytes, too short for the 8-byte header length", path_,
                     fileSize);
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | bytes[i];
  if (headerSize > fileSize - 8)
    return makeError("{}: header length {} runs past the end of the file ({} bytes)", path_,
                     headerSize, fileSize);
  if (headerSize > kMaxHeaderBytes)
    return makeError("{}: header length {} exceeds the format's limit of {} bytes", path_,
                     headerSize, kMaxHeaderBytes);

  llvm::StringRef headerText(reinterpret_cast<const char *>(bytes + 8), headerSize);
  llvm::Expected<llvm::json::Value> header = parseJsonStrictly(headerText);
  if (!header)
    return makeError("{}: header is not valid JSON: {}", path_,
                     llvm::toString(header.takeError()));
  const llvm::json::Object *entries = header->getAsObject();
  if (!entries)
    return makeError("{}: header is not a JSON object", path_);

  const uint8_t *dataStart = bytes + 8 + headerSize;
  uint64_t dataSize = fileSize - 8 - headerSize;
  std::vector<std::pair<uint64_t, uint64_t>> ranges; // [begin, end), with the tensor index
  std::vector<size_t> order;
  for (const auto &[key, value] : *entries) {
    std::string name = key.str();
    if (name == "__metadata__")
      continue;
    const llvm::json::Object *entry = value.getAsObject();
    if (!entry)
      return makeError("{}: tensor '{}': entry is not a JSON object", path_, name);
    std::optional<llvm::StringRef> dtypeText = entry->getString("dtype");
    if (!dtypeText)
      return makeError("{}: tensor '{}': field 'dtype' is missing or not a string", path_, name);
    std::optional<DType> dtype = parseDType(*dtypeText);
    if (!dtype)
      return makeError("{}: tensor '{}': unknown dtype '{}'", path_, name, dtypeText->str());
    std::optional<std::vector<int64_t>> shape = readNonNegativeInts(entry->get("shape"));
    if (!shape)
      return makeError("{}: tensor '{}': field 'shape' must be an array of non-negative "
                       "integers, found {}",
                       path_, name, entry->get("shape") ? describe(*entry->get("shape")) : "none");
    std::optional<std::vector<int64_t>> offsets = readNonNegativeInts(entry->get("data_offsets"));
    if (!offsets || offsets->size() != 2)
      return makeError("{}: tensor '{}': field 'data_offsets' must be [begin, end] with "
                       "non-negative integers, found {}",
                       path_, name,
                       entry->get("data_offsets") ? describe(*entry->get("data_offsets"))
                                                  : "none");
    uint64_t begin = (*offsets)[0], end = (*offsets)[1];
    if (begin > end || end > dataSize)
      return makeError("{}: tensor '{}': data_offsets [{}, {}] lie outside the data section "
                       "({} bytes)",
                       path_, name, begin, end, dataSize);
    std::optional<uint64_t> count = checkedElementCount(*shape);
    uint64_t bytes = 0;
    if (count && __builtin_mul_overflow(*count, uint64_t(dtypeSize(*dtype)), &bytes))
      count = std::nullopt; // 2^62 elements of 8 bytes wrap around to a small byte count
    if (!count || bytes != end - begin)
      return makeError("{}: tensor '{}': shape {} of {} needs {} bytes but data_offsets "
                       "[{}, {}] hold {}",
                       path_, name, formatShape(*shape), dtypeName(*dtype),
                       count ? fmt::format("{}", *count * dtypeSize(*dtype)) : "too many",
                       begin, end, end - begin);
    index_[name] = tensors_.size();
    tensors_.push_back(TensorInfo{name, *dtype, std::move(*shape), dataStart + begin,
                                  end - begin, &path_,
                                  buffer_->getBufferKind() == llvm::MemoryBuffer::MemoryBuffer_MMap});
    ranges.emplace_back(begin, end);
    order.push_back(order.size());
  }

  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return ranges[a] < ranges[b]; });
  for (size_t i = 1; i < order.size(); ++i) {
    const auto &previous = ranges[order[i - 1]], &current = ranges[order[i]];
    if (current.first < previous.second && current.first != current.second)
      return makeError("{}: tensors '{}' [{}, {}] and '{}' [{}, {}] overlap in the data section",
                       path_, tensors_[order[i - 1]].name, previous.first, previous.second,
                       tensors_[order[i]].name, current.first, current.second);
  }
  return llvm::Error::success();
}

} // namespace gemc
