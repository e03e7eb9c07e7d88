//===- PngDecoder.cpp - PNG files to RGB with stb_image ----------------------===//
//
// stb_image (Debian's libstb-dev), PNG only, from memory only. PNG is lossless, so any correct
// decoder gives Pillow's pixels; stb builds for every target the runtime does (the aarch64
// gemc-run included) with nothing to link. Its code does a few things UBSan traps on and that
// are harmless (memcpy of 0 bytes from a null pointer): this file is built without UBSan; ASan
// still checks it (runtime/CMakeLists.txt).
//
//===----------------------------------------------------------------------===//

#include "runtime/media/ImageDecoders.h"

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_MAX_DIMENSIONS (1 << 14)
#include <stb/stb_image.h>

#include <climits>

namespace gemc {
namespace {

/// stb_image's short failure reason for a PNG, said for people.
std::string pngFailure() {
  std::string reason = stbi_failure_reason() ? stbi_failure_reason() : "unknown error";
  if (reason == "outofdata")
    reason = "the data ends early";
  else if (reason == "unknown image type") // every decoder refused the header
    reason = "invalid header";
  return "corrupt or truncated PNG (" + reason + ")";
}

/// 16-bit grey without alpha (IHDR color type 0, depth 16): Pillow opens it as mode I;16, and
/// its convert("RGB") clips each sample to 255 where every other 16-bit PNG keeps the high byte.
bool isGrey16(const uint8_t *data, size_t size) {
  return size > 25 && data[24] == 16 && data[25] == 0;
}

/// A 16-bit grey PNG as Pillow converts it: min(sample, 255), repeated in R, G and B.
stbi_uc *loadGrey16Clipped(const uint8_t *data, size_t size, int &width, int &height) {
  int channels = 0;
  stbi_us *samples = stbi_load_16_from_memory(data, int(size), &width, &height, &channels, 1);
  if (!samples)
    return nullptr;
  size_t count = size_t(width) * height;
  auto *rgb = static_cast<stbi_uc *>(STBI_MALLOC(count * 3));
  for (size_t i = 0; rgb && i < count; ++i)
    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = stbi_uc(samples[i] < 255 ? samples[i] : 255);
  stbi_image_free(samples);
  return rgb;
}

} // namespace

bool decodePng(const uint8_t *data, size_t size, const std::string &name, RgbImage &out,
               std::string &error) {
  int width = 0, height = 0, channels = 0;
  if (size > size_t(INT_MAX) || !stbi_info_from_memory(data, int(size), &width, &height, &channels)) {
    error = name + ": " + pngFailure();
    return false;
  }
  if (!checkImageSize(width, height, name, error))
    return false;
  stbi_uc *pixels = isGrey16(data, size)
                        ? loadGrey16Clipped(data, size, width, height)
                        : stbi_load_from_memory(data, int(size), &width, &height, &channels, 3);
  if (!pixels) {
    error = name + ": " + pngFailure();
    return false;
  }
  out.width = width;
  out.height = height;
  out.pixels.assign(pixels, pixels + size_t(width) * height * 3);
  stbi_image_free(pixels);
  return true;
}

} // namespace gemc
