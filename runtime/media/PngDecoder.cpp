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
  stbi_uc *pixels = stbi_load_from_memory(data, int(size), &width, &height, &channels, 3);
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
