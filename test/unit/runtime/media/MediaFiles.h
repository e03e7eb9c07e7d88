//===- MediaFiles.h - Reading the multimodal refdata in media tests --------===//
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace gemc::test {

/// The bytes of test/data/PATH.
inline std::vector<uint8_t> testDataBytes(const std::string &path) {
  std::ifstream file(std::string(GEMC_TEST_DATA_DIR) + "/" + path, std::ios::binary);
  EXPECT_TRUE(file.good()) << path;
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

/// The bytes of test/data/refdata/CASE/NAME.
inline std::vector<uint8_t> refdataBytes(const std::string &name) {
  return testDataBytes("refdata/" + name);
}

/// A raw little-endian array of T from the refdata.
template <typename T> std::vector<T> refdataArray(const std::string &name) {
  std::vector<uint8_t> bytes = refdataBytes(name);
  std::vector<T> values(bytes.size() / sizeof(T));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
  return values;
}

} // namespace gemc::test
