//===- Image.cpp - Images to the vision tower's patches -----------------------===//

#include "runtime/media/Image.h"

#include "runtime/common/Format.h"
#include "runtime/media/ImageDecoders.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace gemc {
namespace {

/// The largest image decoded: 16384 pixels a side and 64 Mi pixels (192 MiB of RGB), so that a
/// header cannot make the decoder ask for gigabytes.
constexpr int64_t kMaxSide = 1 << 14;
constexpr int64_t kMaxPixels = int64_t(1) << 26;

bool isPng(const uint8_t *data, size_t size) {
  static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  return size >= 8 && std::memcmp(data, signature, 8) == 0;
}

bool isJpeg(const uint8_t *data, size_t size) {
  return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
}

} // namespace

bool checkImageSize(int64_t width, int64_t height, const std::string &name, std::string &error) {
  if (width > 0 && height > 0 && width <= kMaxSide && height <= kMaxSide &&
      width * height <= kMaxPixels)
    return true;
  error = formatMessage("%s: a %lld x %lld image; images must have 1 to %lld pixels a side and at "
                        "most %lld pixels",
                        name.c_str(), (long long)width, (long long)height, (long long)kMaxSide,
                        (long long)kMaxPixels);
  return false;
}

bool decodeImage(const uint8_t *data, size_t size, const std::string &name, RgbImage &out,
                 std::string &error) {
  if (isPng(data, size))
    return decodePng(data, size, name, out, error);
  if (isJpeg(data, size))
    return decodeJpeg(data, size, name, out, error);
  error = name + ": not a PNG or JPEG file";
  return false;
}

ImageSize visionTargetSize(int64_t height, int64_t width, const VisionGeometry &geometry) {
  int64_t side = geometry.side();
  double factor = std::sqrt(double(geometry.maxPatches() * geometry.patchSize *
                                   geometry.patchSize) / double(height * width));
  ImageSize size{int64_t(std::floor(factor * double(height) / double(side))) * side,
                 int64_t(std::floor(factor * double(width) / double(side))) * side};
  // A very long and thin image: its short side becomes one pooled patch row or column.
  int64_t longest = (geometry.maxPatches() / (geometry.poolingKernel * geometry.poolingKernel)) *
                    side;
  if (size.height == 0) {
    size.height = side;
    size.width = std::min(int64_t(std::floor(double(width) / double(height))) * side, longest);
  } else if (size.width == 0) {
    size.width = side;
    size.height = std::min(int64_t(std::floor(double(height) / double(width))) * side, longest);
  }
  return size;
}

namespace {

/// Keys' cubic convolution kernel with a = -0.5, as torchvision's antialiased resize uses it.
double keysCubic(double x) {
  constexpr double a = -0.5;
  x = std::abs(x);
  if (x < 1.0)
    return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2.0)
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0.0;
}

/// The taps of one axis of the resize: output i reads inputs first[i] .. first[i] + count[i] - 1
/// with int16 weights weights[i * stride ..] in fixed point with `precision` fraction bits.
struct ResizeTaps {
  std::vector<int64_t> first, count;
  std::vector<int16_t> weights;
  int64_t stride = 0;
  int precision = 0;
};

/// PyTorch's _compute_index_ranges_int16_weights for the bicubic antialiasing filter.
ResizeTaps bicubicTaps(int64_t inSize, int64_t outSize) {
  double scale = double(inSize) / double(outSize);
  double support = 2.0 * (scale >= 1.0 ? scale : 1.0);
  double invScale = scale >= 1.0 ? 1.0 / scale : 1.0;
  ResizeTaps taps;
  taps.stride = int64_t(std::ceil(support)) * 2 + 1;
  taps.first.resize(outSize);
  taps.count.resize(outSize);
  std::vector<double> weights(outSize * taps.stride, 0.0);
  double largest = 0.0;
  for (int64_t i = 0; i < outSize; ++i) {
    double center = scale * (double(i) + 0.5);
    int64_t first = std::max(int64_t(center - support + 0.5), int64_t(0));
    int64_t count = std::clamp(std::min(int64_t(center + support + 0.5), inSize) - first,
                               int64_t(0), taps.stride);
    double *w = &weights[i * taps.stride];
    double total = 0.0;
    for (int64_t j = 0; j < count; ++j)
      total += w[j] = keysCubic((double(j + first) - center + 0.5) * invScale);
    for (int64_t j = 0; total != 0.0 && j < count; ++j)
      largest = std::max(largest, w[j] /= total);
    taps.first[i] = first;
    taps.count[i] = count;
  }
  // As many fraction bits as keep the largest weight within int16.
  for (taps.precision = 0; taps.precision < 22; ++taps.precision)
    if (int(0.5 + largest * double(1 << (taps.precision + 1))) >= (1 << 15))
      break;
  taps.weights.resize(weights.size());
  for (size_t k = 0; k < weights.size(); ++k) {
    double v = weights[k] * double(1 << taps.precision);
    taps.weights[k] = int16_t(v < 0 ? int(-0.5 + v) : int(0.5 + v));
  }
  return taps;
}

/// One resize pass along an axis: `lines` lines of `inSize` pixels, pixel p of line l at
/// in[l * lineStep + p * pixelStep] (3 channels each), into `out` laid out the same way with
/// outSize pixels.
void resizeAxis(const uint8_t *in, uint8_t *out, int64_t lines, int64_t lineStepIn,
                int64_t lineStepOut, int64_t pixelStep, const ResizeTaps &taps) {
  int64_t outSize = int64_t(taps.first.size());
  int32_t half = int32_t(1) << (taps.precision - 1);
  for (int64_t l = 0; l < lines; ++l)
    for (int64_t i = 0; i < outSize; ++i) {
      const int16_t *w = &taps.weights[i * taps.stride];
      for (int64_t c = 0; c < 3; ++c) {
        int32_t sum = half;
        for (int64_t j = 0; j < taps.count[i]; ++j)
          sum += int32_t(in[l * lineStepIn + (taps.first[i] + j) * pixelStep + c]) * w[j];
        out[l * lineStepOut + i * pixelStep + c] =
            uint8_t(std::clamp(sum >> taps.precision, 0, 255));
      }
    }
}

/// One pass of the resize: rows to `size` columns (horizontal) or columns to `size` rows.
RgbImage resizePass(const RgbImage &in, int64_t size, bool horizontal) {
  RgbImage out{horizontal ? size : in.width, horizontal ? in.height : size, {}};
  out.pixels.resize(size_t(out.width * out.height * 3));
  if (horizontal) // lines are rows
    resizeAxis(in.pixels.data(), out.pixels.data(), in.height, in.width * 3, out.width * 3, 3,
               bicubicTaps(in.width, size));
  else // lines are columns
    resizeAxis(in.pixels.data(), out.pixels.data(), in.width, 3, 3, in.width * 3,
               bicubicTaps(in.height, size));
  return out;
}

} // namespace

RgbImage resizeBicubic(const RgbImage &image, ImageSize size) {
  if (size.width == image.width) // Transformers skips a pass whose size does not change
    return size.height == image.height ? image : resizePass(image, size.height, false);
  RgbImage wide = resizePass(image, size.width, true);
  return size.height == wide.height ? wide : resizePass(wide, size.height, false);
}

ImagePatches patchify(const RgbImage &image, int64_t patchSize) {
  ImagePatches out;
  out.patchSize = patchSize;
  out.gridWidth = image.width / patchSize;
  out.gridHeight = image.height / patchSize;
  int64_t rowSize = patchSize * patchSize * 3;
  out.pixels.resize(size_t(out.numPatches() * rowSize));
  out.positions.resize(size_t(out.numPatches() * 2));
  const float unit = 1.0f / 255.0f; // Transformers multiplies by float32(1/255)
  for (int64_t gy = 0; gy < out.gridHeight; ++gy)
    for (int64_t gx = 0; gx < out.gridWidth; ++gx) {
      int64_t patch = gy * out.gridWidth + gx;
      float *row = &out.pixels[patch * rowSize];
      for (int64_t py = 0; py < patchSize; ++py) {
        const uint8_t *source =
            &image.pixels[((gy * patchSize + py) * image.width + gx * patchSize) * 3];
        for (int64_t k = 0; k < patchSize * 3; ++k)
          row[py * patchSize * 3 + k] = float(source[k]) * unit;
      }
      out.positions[patch * 2] = int32_t(gx);
      out.positions[patch * 2 + 1] = int32_t(gy);
    }
  return out;
}

bool preprocessImage(const uint8_t *data, size_t size, const std::string &name,
                     const VisionGeometry &geometry, ImagePatches &out, std::string &error) {
  RgbImage image;
  if (!decodeImage(data, size, name, image, error))
    return false;
  ImageSize target = visionTargetSize(image.height, image.width, geometry);
  int64_t columns = target.width / geometry.patchSize, rows = target.height / geometry.patchSize;
  if (std::max(columns, rows) > geometry.positionTableSize) {
    error = formatMessage("%s: a %lld x %lld image becomes %lld x %lld patches at %lld soft "
                          "tokens, but the vision tower has positions for %lld per side "
                          "(vision_config.position_embedding_size)",
                          name.c_str(), (long long)image.width, (long long)image.height,
                          (long long)columns, (long long)rows, (long long)geometry.maxSoftTokens,
                          (long long)geometry.positionTableSize);
    return false;
  }
  if (target.height != image.height || target.width != image.width)
    image = resizeBicubic(image, target);
  out = patchify(image, geometry.patchSize);
  return true;
}

} // namespace gemc
