// File: images/test_images.h
//
// Test-only encoders that build upload fixtures in-process with the same
// libraries the decoders use (libpng, libjpeg-turbo, libwebp), plus an EXIF
// APP1 payload builder and a hand-assembled animated WebP. Encoder failures
// are test bugs and abort with a message.
#ifndef STAMINA_IMAGES_TEST_IMAGES_H_
#define STAMINA_IMAGES_TEST_IMAGES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace stamina::images {

// A PNG to write: `rows` holds the packed samples exactly as PNG stores them
// (sub-byte depths packed MSB first, 16-bit big-endian), row after row.
struct PngSpec {
  int width = 0;
  int height = 0;
  int color_type = 0;  // PNG_COLOR_TYPE_*
  int bit_depth = 8;
  bool interlaced = false;
  std::vector<uint8_t> rows;
  std::vector<uint8_t> palette_rgb;  // PLTE, 3 bytes per entry
  std::vector<uint8_t> trns;         // tRNS: palette alphas, or gray/RGB key
};
std::string WriteTestPng(const PngSpec& spec);

// Signature and IHDR only, claiming `width` x `height` RGB.
std::string WritePngHeaderOnly(int width, int height);

// A JPEG to write from `samples` in `color_space` (a J_COLOR_SPACE value:
// JCS_RGB, JCS_GRAYSCALE, JCS_CMYK), stored as `jpeg_color_space` when not
// 0 (e.g. JCS_YCCK). `app1` (an APP1 payload) is written when not empty.
// Without `adobe_marker`, CMYK is stored with no APP14 (plain ink amounts).
struct JpegSpec {
  int width = 0;
  int height = 0;
  int color_space = 0;
  int jpeg_color_space = 0;
  int components = 3;
  std::vector<uint8_t> samples;
  bool progressive = false;
  int quality = 95;
  std::string app1;
  bool adobe_marker = true;  // libjpeg's default for CMYK/YCCK
};
std::string WriteTestJpeg(const JpegSpec& spec);

// "Exif\0\0" + a TIFF block whose IFD0 holds a couple of tags and the
// orientation, in little- or big-endian byte order.
std::string ExifPayload(int orientation, bool little_endian);

std::string WriteTestWebpLossy(int width, int height,
                               const std::vector<uint8_t>& rgb);
std::string WriteTestWebpLossyRgba(int width, int height,
                                   const std::vector<uint8_t>& rgba);
std::string WriteTestWebpLossless(int width, int height,
                                  const std::vector<uint8_t>& rgba);

// An animated WebP (VP8X + ANIM + one ANMF per frame) whose frames are
// lossless encodings of `frames` (RGBA, each width x height, at 0,0).
std::string WriteTestWebpAnimation(int width, int height,
                                   const std::vector<std::vector<uint8_t>>&
                                       frames);

// width x height pixels in four solid quadrants: top-left red, top-right
// green, bottom-left blue, bottom-right yellow; `channels` 3 (RGB) or 4
// (RGBA, opaque).
std::vector<uint8_t> Quadrants(int width, int height, int channels);

}  // namespace stamina::images

#endif  // STAMINA_IMAGES_TEST_IMAGES_H_
