//===- ImageDecoders.h - The file decoders behind decodeImage -----------------===//
//
// One decoder per file format, each in its own file with its library; decodeImage (Image.cpp)
// picks one by the file's signature.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/media/Image.h"

namespace gemc {

/// Success when a decoder may allocate an image of this size (1 to 16384 pixels a side, at most
/// 64 Mi pixels, so that a header cannot make it ask for gigabytes); else a message naming it.
bool checkImageSize(int64_t width, int64_t height, const std::string &name, std::string &error);

bool decodePng(const uint8_t *data, size_t size, const std::string &name, RgbImage &out,
               std::string &error);
bool decodeJpeg(const uint8_t *data, size_t size, const std::string &name, RgbImage &out,
                std::string &error);

} // namespace gemc
