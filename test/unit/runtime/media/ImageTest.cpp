//===- ImageTest.cpp - The image path against Transformers' processor -----===//
//
// refdata/vision-tiny holds two PNGs, the processor's resize of each (torchvision, uint8), and
// its pixel rows and patch positions (70-token budget: 630 patches, zero-padded).

#include "runtime/media/Image.h"

#include "test/unit/runtime/media/MediaFiles.h"

#include <gtest/gtest.h>


#include <algorithm>

namespace gemc {
namespace {

using test::refdataArray;
using test::refdataBytes;
using test::testDataBytes;

/// Decodes test/data/PATH.
RgbImage decodedFile(const std::string &path) {
  std::vector<uint8_t> bytes = testDataBytes(path);
  RgbImage image;
  std::string error;
  EXPECT_TRUE(decodeImage(bytes.data(), bytes.size(), path, image, error)) << error;
  return image;
}

constexpr VisionGeometry kTinyBudget{16, 3, 70};

TEST(ImageTest, TargetSizesAreTheProcessors) {
  // The two refdata images: small ones are upscaled, large ones shrunk, both to multiples of 48.
  EXPECT_EQ(visionTargetSize(96, 128, kTinyBudget).height, 336);
  EXPECT_EQ(visionTargetSize(96, 128, kTinyBudget).width, 432);
  EXPECT_EQ(visionTargetSize(600, 300, kTinyBudget).height, 528);
  EXPECT_EQ(visionTargetSize(600, 300, kTinyBudget).width, 240);
  // A 1 x 1000 strip: the short side would round to 0, so it is one pooled row (48) and the
  // long side min(floor(1000 / 1) x 48, 70 x 48).
  ImageSize strip = visionTargetSize(1, 1000, kTinyBudget);
  EXPECT_EQ(strip.height, 48);
  EXPECT_EQ(strip.width, 70 * 48);
  // At the default budget (280 tokens, 2520 patches) a 4:3 photo becomes 672 x 912: 266 tokens.
  ImageSize photo = visionTargetSize(3024, 4032, VisionGeometry{});
  EXPECT_EQ(photo.height, 672);
  EXPECT_EQ(photo.width, 912);
}

TEST(ImageTest, ResizeIsTorchvisionsByteForByte) {
  for (const char *index : {"0", "1"}) {
    RgbImage image = decodedFile(std::string("refdata/vision-tiny/image_") + index + ".png");
    RgbImage expected = decodedFile(std::string("refdata/vision-tiny/resized_") + index + ".png");
    RgbImage resized = resizeBicubic(image, {expected.height, expected.width});
    ASSERT_EQ(resized.pixels.size(), expected.pixels.size());
    int64_t differing = 0, worst = 0;
    for (size_t i = 0; i < resized.pixels.size(); ++i) {
      int64_t d = std::abs(int(resized.pixels[i]) - int(expected.pixels[i]));
      differing += d != 0;
      worst = std::max(worst, d);
    }
    EXPECT_EQ(differing, 0) << "image " << index << ": " << differing << " of "
                            << resized.pixels.size() << " values differ, by up to " << worst;
  }
}

TEST(ImageTest, PatchesAndPositionsAreTheProcessors) {
  std::vector<float> pixels = refdataArray<float>("vision-tiny/pixel_values.f32");
  std::vector<int32_t> positions = refdataArray<int32_t>("vision-tiny/image_position_ids.i32");
  constexpr int64_t kMaxPatches = 630, kRow = 768;
  for (int64_t index : {0, 1}) {
    std::vector<uint8_t> bytes = refdataBytes("vision-tiny/image_" + std::to_string(index) + ".png");
    ImagePatches patches;
    std::string error;
    ASSERT_TRUE(preprocessImage(bytes.data(), bytes.size(), "image", kTinyBudget, patches, error))
        << error;
    int64_t n = patches.numPatches();
    ASSERT_LE(n, kMaxPatches);
    EXPECT_EQ(n % 9, 0);
    const float *expected = &pixels[index * kMaxPatches * kRow];
    EXPECT_TRUE(std::equal(patches.pixels.begin(), patches.pixels.end(), expected));
    // The rows past the image are the processor's zero padding, which gemc does not make.
    EXPECT_TRUE(std::all_of(expected + n * kRow, expected + kMaxPatches * kRow,
                            [](float v) { return v == 0; }));
    const int32_t *expectedPositions = &positions[index * kMaxPatches * 2];
    EXPECT_TRUE(std::equal(patches.positions.begin(), patches.positions.end(), expectedPositions));
    EXPECT_EQ(expectedPositions[n * 2], -1);
  }
}

TEST(ImageTest, PngColorTypesBecomeRgbAsPillowConvertsThem) {
  // make_pngs.py: v = 20 * (y * 4 + x) on a 4 x 3 image.
  RgbImage grey = decodedFile("fixtures/images/grey8.png");
  RgbImage rgba = decodedFile("fixtures/images/rgba8.png");
  RgbImage rgb16 = decodedFile("fixtures/images/rgb16.png");
  RgbImage palette = decodedFile("fixtures/images/palette.png");
  RgbImage grey16 = decodedFile("fixtures/images/grey16.png");
  RgbImage greyAlpha16 = decodedFile("fixtures/images/la16.png");
  for (const RgbImage *image : {&grey, &rgba, &rgb16, &palette, &grey16, &greyAlpha16}) {
    ASSERT_EQ(image->width, 4);
    ASSERT_EQ(image->height, 3);
  }
  const uint8_t colors[3][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
  for (int i = 0; i < 12; ++i) {
    uint8_t v = uint8_t(20 * i);
    auto pixel = [&](const RgbImage &image) {
      return std::vector<uint8_t>(image.pixels.begin() + 3 * i, image.pixels.begin() + 3 * i + 3);
    };
    EXPECT_EQ(pixel(grey), (std::vector<uint8_t>{v, v, v})) << i;       // grey repeated
    EXPECT_EQ(pixel(rgba), (std::vector<uint8_t>{v, uint8_t(255 - v), 7})) << i; // alpha dropped
    EXPECT_EQ(pixel(rgb16), (std::vector<uint8_t>{v, v, v})) << i;      // the high byte
    EXPECT_EQ(pixel(palette), (std::vector<uint8_t>(colors[i % 3], colors[i % 3] + 3))) << i;
    EXPECT_EQ(pixel(greyAlpha16), (std::vector<uint8_t>{v, v, v})) << i; // the high byte
    // Pillow's I;16 mode: the sample v * 256 + 0x55 clipped to 255.
    uint8_t clipped = i == 0 ? 0x55 : 255;
    EXPECT_EQ(pixel(grey16), (std::vector<uint8_t>{clipped, clipped, clipped})) << i;
  }
}

/// A binary PPM's pixels (as djpeg writes them: "P6\nW H\n255\n" then RGB).
RgbImage readPpm(const std::string &path) {
  std::vector<uint8_t> bytes = testDataBytes(path);
  std::string header(bytes.begin(), bytes.begin() + std::min<size_t>(bytes.size(), 32));
  RgbImage image;
  int offset = 0;
  EXPECT_EQ(std::sscanf(header.c_str(), "P6 %lld %lld 255%n", (long long *)&image.width,
                        (long long *)&image.height, &offset),
            2);
  image.pixels.assign(bytes.begin() + offset + 1, bytes.end());
  return image;
}

TEST(ImageTest, JpegDecodesAsPillowDoes) {
  // libjpeg-turbo with Pillow's settings gives djpeg's pixels (the same library's defaults);
  // a CMYK file gives what Pillow's Image.open(...).convert("RGB") gave.
  for (const char *name : {"baseline-420", "progressive-444", "cmyk"}) {
    std::string base = std::string("fixtures/images/") + name;
    RgbImage image = decodedFile(base + ".jpg");
    RgbImage expected = readPpm(base + ".ppm");
    EXPECT_EQ(image.width, expected.width);
    EXPECT_EQ(image.height, expected.height);
    EXPECT_TRUE(image.pixels == expected.pixels) << name;
  }
}

TEST(ImageTest, BrokenFilesGiveOneClearError) {
  std::vector<uint8_t> png = refdataBytes("vision-tiny/image_0.png");
  auto failure = [](std::vector<uint8_t> bytes) {
    RgbImage image;
    std::string error;
    EXPECT_FALSE(decodeImage(bytes.data(), bytes.size(), "cat.png", image, error));
    return error;
  };
  EXPECT_EQ(failure({}), "cat.png: not a PNG or JPEG file");
  EXPECT_EQ(failure({'G', 'I', 'F', '8', '9', 'a', 0, 0}), "cat.png: not a PNG or JPEG file");
  std::vector<uint8_t> truncated(png.begin(), png.begin() + png.size() / 2);
  EXPECT_EQ(failure(truncated), "cat.png: corrupt or truncated PNG (the data ends early)");
  // A header that claims a 0-pixel-wide image (IHDR width at byte 16).
  std::vector<uint8_t> zeroWide = png;
  std::fill(zeroWide.begin() + 16, zeroWide.begin() + 20, 0);
  EXPECT_EQ(failure(zeroWide), "cat.png: corrupt or truncated PNG (invalid header)");
  std::vector<uint8_t> jpeg = testDataBytes("fixtures/images/baseline-420.jpg");
  EXPECT_EQ(failure(std::vector<uint8_t>(jpeg.begin(), jpeg.begin() + jpeg.size() / 2)),
            "cat.png: corrupt or truncated JPEG (Premature end of JPEG file)");
  EXPECT_EQ(failure(std::vector<uint8_t>(jpeg.begin(), jpeg.begin() + 100)),
            "cat.png: corrupt or truncated JPEG (Premature end of JPEG file)");
  // One that claims 16000 x 16000 pixels is refused before anything is allocated for it.
  std::vector<uint8_t> huge = png;
  for (int at : {16, 20}) {
    huge[at] = 0, huge[at + 1] = 0, huge[at + 2] = 0x3E, huge[at + 3] = 0x80; // 16000
  }
  EXPECT_EQ(failure(huge), "cat.png: a 16000 x 16000 image; images must have 1 to 16384 pixels a "
                           "side and at most 67108864 pixels");
}

TEST(ImageTest, GridsBeyondThePositionTableAreRefused) {
  // image_1.png (300 x 600) is 15 x 33 patches at 70 tokens: a table of 32 positions is short.
  std::vector<uint8_t> png = refdataBytes("vision-tiny/image_1.png");
  ImagePatches patches;
  std::string error;
  EXPECT_FALSE(
      preprocessImage(png.data(), png.size(), "tall.png", VisionGeometry{16, 3, 70, 32}, patches,
                      error));
  EXPECT_EQ(error, "tall.png: a 300 x 600 image becomes 15 x 33 patches at 70 soft tokens, but "
                   "the vision tower has positions for 32 per side "
                   "(vision_config.position_embedding_size)");
  EXPECT_TRUE(
      preprocessImage(png.data(), png.size(), "tall.png", VisionGeometry{16, 3, 70, 33}, patches,
                      error))
      << error;
}

} // namespace
} // namespace gemc
