//===- JpegDecoder.cpp - JPEG files to RGB with libjpeg-turbo ----------------===//
//
// libjpeg-turbo is the decoder Pillow uses; with Pillow's settings (islow IDCT, fancy
// upsampling, its YCbCr -> RGB) the pixels are Transformers' exactly. (stb_image's JPEG decoder
// differs by a level in about 6% of the values.) Four-component (CMYK, YCCK) files become RGB
// as Pillow converts them. The aarch64 cross build of gemc-run has no arm64 libjpeg
// (GEMC_NO_LIBJPEG) and refuses JPEG files.
//
//===----------------------------------------------------------------------===//

#include "runtime/media/ImageDecoders.h"

#ifndef GEMC_NO_LIBJPEG
#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <jpeglib.h>
#include <jerror.h>
#endif

namespace gemc {
#ifndef GEMC_NO_LIBJPEG
namespace {

/// libjpeg's error manager, returning to decodeJpeg (a C library: longjmp crosses no C++ frame
/// that owns anything).
struct JpegErrors {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void failJpeg(j_common_ptr info) {
  auto *errors = reinterpret_cast<JpegErrors *>(info->err);
  errors->manager.format_message(info, errors->message);
  std::longjmp(errors->jump, 1);
}

/// Warnings are ignored, as Pillow ignores them, except the end of the data before the image's
/// end, which Pillow reports as a truncated file.
void warnJpeg(j_common_ptr info, int level) {
  if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF)
    failJpeg(info);
}

/// (a * b) / 255 rounded, as Pillow's MULDIV255 computes it.
int mulDiv255(int a, int b) {
  int t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/// A row of 4-component pixels as Pillow reads and converts them: it takes every JPEG with four
/// components for Adobe's inverted CMYK (libjpeg turns YCCK into that CMYK first), then
/// convert("RGB") makes each channel (255 - k) - (c (255 - k)) / 255 of the inverted values.
void cmykRowToRgb(const uint8_t *cmyk, int64_t width, uint8_t *rgb) {
  for (int64_t x = 0; x < width; ++x, cmyk += 4, rgb += 3) {
    int notBlack = cmyk[3]; // 255 - (255 - stored k)
    for (int c = 0; c < 3; ++c)
      rgb[c] = uint8_t(std::clamp(notBlack - mulDiv255(255 - cmyk[c], notBlack), 0, 255));
  }
}

} // namespace

bool decodeJpeg(const uint8_t *data, size_t size, const std::string &name, RgbImage &out,
                std::string &error) {
  jpeg_decompress_struct info;
  JpegErrors errors;
  info.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = failJpeg;
  errors.manager.emit_message = warnJpeg;
  jpeg_create_decompress(&info);
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&info);
    error = name + ": corrupt or truncated JPEG (" + errors.message + ")";
    return false;
  }
  jpeg_mem_src(&info, data, (unsigned long)size);
  jpeg_read_header(&info, TRUE);
  if (!checkImageSize(info.image_width, info.image_height, name, error)) {
    jpeg_destroy_decompress(&info);
    return false;
  }
  bool cmyk = info.num_components == 4;
  info.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(&info);
  out.width = info.output_width;
  out.height = info.output_height;
  out.pixels.resize(size_t(out.width * out.height * 3));
  // libjpeg's own pool holds the CMYK row: nothing here may own memory across its longjmp.
  JSAMPARRAY cmykRow =
      cmyk ? (*info.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&info), JPOOL_IMAGE,
                                       JDIMENSION(out.width * 4), 1)
           : nullptr;
  while (info.output_scanline < info.output_height) {
    uint8_t *rgb = &out.pixels[size_t(info.output_scanline) * out.width * 3];
    JSAMPROW row = cmyk ? cmykRow[0] : rgb;
    jpeg_read_scanlines(&info, &row, 1);
    if (cmyk)
      cmykRowToRgb(row, out.width, rgb);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  return true;
}
#else
bool decodeJpeg(const uint8_t *, size_t, const std::string &name, RgbImage &, std::string &error) {
  error = name + ": this build of the runtime has no JPEG decoder (libjpeg); use a PNG";
  return false;
}
#endif

} // namespace gemc
