//===- Image.h - Images to the vision tower's patches -------------------------===//
//
// What Gemma4ImageProcessor (transformers 5.23, torchvision backend) does to an image before the
// vision tower, in C++ and byte for byte (refdata/vision-tiny/README.md lists the facts):
//   1. decode a PNG (stb_image) or JPEG (libjpeg-turbo, as Pillow) file to 8-bit RGB, as
//      Pillow's convert("RGB") does;
//   2. choose the size: aspect ratio kept, each side a multiple of patch x pooling (48), at most
//      max_soft_tokens x pooling^2 patches (visionTargetSize);
//   3. resize the uint8 image with torchvision's antialiased bicubic (resizeBicubic);
//   4. cut it into patch x patch x 3 rows of uint8 x float32(1/255), with each patch's (column,
//      row) in the patch grid (patchify).
// No padding rows: the tower runs on the image's own patches (padding patches are masked out of
// attention and dropped by the pooler, so they change nothing).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gemc {

/// An 8-bit RGB image: `height` rows of `width` x (R, G, B).
struct RgbImage {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> pixels;
};

/// Decodes a PNG or JPEG file's bytes to RGB as Pillow's convert("RGB") does: alpha is dropped,
/// grey is repeated, 16-bit samples keep their high byte (16-bit grey without alpha is clipped
/// to 255), palettes are expanded. `name` (the file) starts every error.
bool decodeImage(const uint8_t *data, size_t size, const std::string &name, RgbImage &out,
                 std::string &error);

/// The patch geometry of a vision tower and the number of soft tokens an image may become.
struct VisionGeometry {
  int64_t patchSize = 16;
  int64_t poolingKernel = 3;
  int64_t maxSoftTokens = 280;
  /// Positions per axis in the tower's position table: no grid may be wider or taller.
  int64_t positionTableSize = 10240;
  int64_t side() const { return patchSize * poolingKernel; }
  int64_t maxPatches() const { return maxSoftTokens * poolingKernel * poolingKernel; }
};

struct ImageSize {
  int64_t height = 0, width = 0;
};

/// The size an image of `height` x `width` is resized to (get_aspect_ratio_preserving_size).
ImageSize visionTargetSize(int64_t height, int64_t width, const VisionGeometry &geometry);

/// torchvision's resize(uint8 image, size, BICUBIC, antialias=True): a separable Keys cubic
/// (a = -0.5) widened by the scale when shrinking, weights normalized per output pixel and
/// rounded to int16 fixed point, the horizontal pass first, each pass rounded to uint8.
RgbImage resizeBicubic(const RgbImage &image, ImageSize size);

/// An image as the vision tower reads it.
struct ImagePatches {
  int64_t gridWidth = 0, gridHeight = 0; // in patches
  int64_t patchSize = 0;
  /// [patches, patchSize * patchSize * 3]: row-major over the grid; inside a patch (py, px, c)
  /// with the channel fastest; each value uint8 x float32(1/255).
  std::vector<float> pixels;
  /// [patches, 2]: (x = column, y = row) of each patch.
  std::vector<int32_t> positions;

  int64_t numPatches() const { return gridWidth * gridHeight; }
};

/// Cuts an image whose sides are multiples of `patchSize` into patches.
ImagePatches patchify(const RgbImage &image, int64_t patchSize);

/// decodeImage, visionTargetSize, resizeBicubic (when the size changes) and patchify; an
/// image whose patch grid would outgrow the position table is an error.
bool preprocessImage(const uint8_t *data, size_t size, const std::string &name,
                     const VisionGeometry &geometry, ImagePatches &out, std::string &error);

} // namespace gemc
