//===- TestSafeTensors.h - In-memory safetensors files for unit tests ------===//
#pragma once

#include "frontends/SafeTensors.h"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace gemc::test {

/// Builds the bytes of a safetensors file tensor by tensor (raw little-endian data).
class SafeTensorsWriter {
public:
  void add(const std::string &name, const std::string &dtype, std::vector<int64_t> shape,
           const void *bytes, size_t size) {
    entries_.push_back(fmt::format(R"("{}": {{"dtype": "{}", "shape": [{}], "data_offsets": [{}, {}]}})",
                                   name, dtype, fmt::join(shape, ", "), data_.size(),
                                   data_.size() + size));
    data_.append(static_cast<const char *>(bytes), size);
  }
  void addF32(const std::string &name, std::vector<int64_t> shape, const std::vector<float> &v) {
    add(name, "F32", std::move(shape), v.data(), v.size() * sizeof(float));
  }
  /// Random N(0, 0.5^2) values, stored as bf16 (truncated) or f32.
  void addRandom(const std::string &name, std::vector<int64_t> shape, bool bf16, uint32_t seed) {
    int64_t count = 1;
    for (int64_t dim : shape)
      count *= dim;
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    std::vector<float> values(static_cast<size_t>(count));
    for (float &v : values)
      v = normal(rng);
    if (!bf16)
      return addF32(name, std::move(shape), values);
    std::vector<uint16_t> bits(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      uint32_t word;
      std::memcpy(&word, &values[i], 4);
      bits[i] = uint16_t(word >> 16);
    }
    add(name, "BF16", std::move(shape), bits.data(), bits.size() * 2);
  }
  std::string bytes() const {
    std::string header = fmt::format("{{{}}}", fmt::join(entries_, ", "));
    uint64_t length = header.size();
    std::string out(reinterpret_cast<const char *>(&length), 8);
    return out + header + data_;
  }
  std::unique_ptr<SafeTensorsFile> open() const {
    auto file = SafeTensorsFile::parse(llvm::MemoryBuffer::getMemBufferCopy(bytes()), "test");
    if (!file) {
      ADD_FAILURE() << llvm::toString(file.takeError());
      return nullptr;
    }
    return std::move(*file);
  }

private:
  std::vector<std::string> entries_;
  std::string data_;
};

} // namespace gemc::test
