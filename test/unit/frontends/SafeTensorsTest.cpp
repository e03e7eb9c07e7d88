//===- SafeTensorsTest.cpp - safetensors parsing and dtype decoding ---------===//
//
// The CLI-level broken-file cases are lit tests (test/frontends/*.test); these check the values
// read back and the edge cases that need no file on disk.

#include <gtest/gtest.h>

#include "../TestSafeTensors.h"

using namespace gemc;

TEST(SafeTensors, DecodesEachWeightDTypeExactly) {
  // Hand-encoded: f16 1.0, -2.0, 65504 (largest), 2^-24 (smallest subnormal), +inf;
  // bf16 1.0, -0.5, 3.140625.
  const uint16_t f16[] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00};
  const uint16_t bf16[] = {0x3F80, 0xBF00, 0x4049};
  const float f32[] = {1.5f, -0.25f};
  test::SafeTensorsWriter writer;
  writer.add("half", "F16", {5}, f16, sizeof(f16));
  writer.add("brain", "BF16", {3, 1}, bf16, sizeof(bf16));
  writer.add("single", "F32", {2}, f32, sizeof(f32));
  auto file = writer.open();
  ASSERT_TRUE(file);

  std::vector<float> out(5);
  const TensorInfo *half = file->find("half");
  ASSERT_TRUE(half);
  decodeToFloat(half->dtype, half->data, 5, out.data());
  EXPECT_EQ(out, (std::vector<float>{1.0f, -2.0f, 65504.0f, std::ldexp(1.0f, -24), INFINITY}));
  const TensorInfo *brain = file->find("brain");
  EXPECT_EQ(brain->shape, (std::vector<int64_t>{3, 1}));
  decodeToFloat(brain->dtype, brain->data, 3, out.data());
  EXPECT_EQ(std::vector<float>(out.begin(), out.begin() + 3),
            (std::vector<float>{1.0f, -0.5f, 3.140625f}));
  const TensorInfo *single = file->find("single");
  decodeToFloat(single->dtype, single->data, 2, out.data());
  EXPECT_EQ(out[0], 1.5f);
  EXPECT_EQ(out[1], -0.25f);
}

TEST(SafeTensors, PointsIntoTheBufferWithoutCopying) {
  const float values[] = {1, 2, 3, 4};
  test::SafeTensorsWriter writer;
  writer.addF32("a", {2, 2}, {1, 2, 3, 4});
  std::string bytes = writer.bytes();
  auto buffer = llvm::MemoryBuffer::getMemBuffer(bytes, "mem", false);
  const char *start = buffer->getBufferStart();
  auto file = SafeTensorsFile::parse(std::move(buffer), "mem");
  ASSERT_TRUE(bool(file));
  const TensorInfo *a = (*file)->find("a");
  EXPECT_EQ(reinterpret_cast<const char *>(a->data), start + bytes.size() - sizeof(values));
  EXPECT_EQ(a->numBytes, sizeof(values));
}

TEST(SafeTensors, AcceptsEmptyTensorsAndMetadata) {
  test::SafeTensorsWriter writer;
  writer.add("empty", "F32", {0, 4}, nullptr, 0);
  writer.addF32("one", {1}, {7});
  std::string bytes = writer.bytes();
  bytes.replace(bytes.find('{', 8), 1, R"({"__metadata__": {"format": "pt"}, )");
  uint64_t length = bytes.size() - 8 - sizeof(float);
  std::memcpy(bytes.data(), &length, 8);
  auto file = SafeTensorsFile::parse(llvm::MemoryBuffer::getMemBufferCopy(bytes), "meta");
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_EQ((*file)->tensors().size(), 2u);
  EXPECT_EQ((*file)->find("empty")->numElements(), 0);
  EXPECT_EQ((*file)->find("__metadata__"), nullptr);
}

TEST(SafeTensors, RejectsEntriesMissingFields) {
  for (const char *header : {R"({"t": {"shape": [1], "data_offsets": [0, 4]}})",
                             R"({"t": {"dtype": "F32", "data_offsets": [0, 4]}})",
                             R"({"t": {"dtype": "F32", "shape": [1]}})",
                             R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})",
                             R"({"t": 5})"}) {
    std::string text(header);
    uint64_t length = text.size();
    std::string bytes = std::string(reinterpret_cast<const char *>(&length), 8) + text + "abcd";
    auto file = SafeTensorsFile::parse(llvm::MemoryBuffer::getMemBufferCopy(bytes), "f.st");
    ASSERT_FALSE(bool(file)) << header;
    std::string message = llvm::toString(file.takeError());
    EXPECT_NE(message.find("f.st: tensor 't'"), std::string::npos) << message;
  }
}

TEST(SafeTensors, FindsTheFirstNonFiniteElementAcrossBlocks) {
  // bf16: 1.0 everywhere, then NaN (0x7FC0), -inf (0xFF80); the largest finite (0x7F7F) and a
  // subnormal (0x0001) are finite. Positions around the scan's 256-element blocks.
  for (int64_t at : {0, 255, 256, 257, 599}) {
    std::vector<uint16_t> bits(600, 0x3F80);
    bits[10] = 0x7F7F;
    bits[11] = 0x0001;
    EXPECT_EQ(findNonFinite(DType::BF16, reinterpret_cast<uint8_t *>(bits.data()), 600), -1);
    bits[at] = at % 2 ? 0x7FC0 : 0xFF80;
    EXPECT_EQ(findNonFinite(DType::BF16, reinterpret_cast<uint8_t *>(bits.data()), 600), at);
    EXPECT_EQ(findNonFinite(DType::BF16, reinterpret_cast<uint8_t *>(bits.data()), at), -1);
  }
  const uint16_t f16[] = {0x3C00, 0x7BFF, 0x7C00}; // 1, 65504, +inf
  EXPECT_EQ(findNonFinite(DType::F16, reinterpret_cast<const uint8_t *>(f16), 3), 2);
  const float f32[] = {1.0f, 3.4e38f, -NAN};
  EXPECT_EQ(findNonFinite(DType::F32, reinterpret_cast<const uint8_t *>(f32), 3), 2);
}

TEST(SafeTensors, CheckFiniteNamesTheTensorRowAndColumn) {
  const float values[] = {0, 1, 2, 3, 4, 5, INFINITY, 7}; // [2, 4]: row 1, column 2
  test::SafeTensorsWriter writer;
  writer.add("w", "F32", {2, 4}, values, sizeof(values));
  auto file = writer.open();
  ASSERT_TRUE(file);
  const TensorInfo &w = *file->find("w");
  EXPECT_FALSE(checkFinite(w, 0, 6));
  llvm::Error error = checkFinite(w, 4, 4);
  ASSERT_TRUE(bool(error));
  EXPECT_EQ(llvm::toString(std::move(error)),
            *w.file + ": tensor 'w' holds inf at row 1, column 2: the checkpoint is damaged");
}
