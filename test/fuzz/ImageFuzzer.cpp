//===- ImageFuzzer.cpp - Fuzzes image decoding and the vision preprocessing ===//
//
// The input is a whole image file. A decoded image goes through the rest of the image path
// (size, resize, patches) at the smallest budget, so that ASan sees every buffer it touches.

#include "runtime/media/Image.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gemc::ImagePatches patches;
  std::string error;
  gemc::preprocessImage(data, size, "fuzz.png", gemc::VisionGeometry{16, 3, 70}, patches, error);
  return 0;
}
