// Writes the seed corpus of image_decoder_fuzz (testdata/fuzz/
// image_decoder_fuzz/): tiny valid images of every kind the decoder takes,
// made with the same encoders as the unit tests (images/test_images.h), so
// the fuzzer starts past each format's signature and header checks.
//
// Build from the repository root and run once (the output is committed):
//   g++ -std=c++17 -I. testdata/fuzz/make_image_seeds.cc images/test_images.cc
//       -lpng16 -ljpeg -lwebp -o /tmp/make_image_seeds
//   /tmp/make_image_seeds testdata/fuzz/image_decoder_fuzz
#include <png.h>
#include <jpeglib.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "images/test_images.h"

namespace {

using namespace stamina::images;  // NOLINT: a seed writer, nothing else.

void Write(const std::string& dir, const std::string& name,
           const std::string& bytes) {
  const std::string path = dir + "/" + name;
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr ||
      std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size() ||
      std::fclose(file) != 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const int w = 8, h = 6;

  PngSpec rgb{.width = w, .height = h, .color_type = PNG_COLOR_TYPE_RGB};
  rgb.rows = Quadrants(w, h, 3);
  Write(dir, "rgb8.png", WriteTestPng(rgb));
  PngSpec interlaced = rgb;
  interlaced.interlaced = true;
  Write(dir, "rgb8_interlaced.png", WriteTestPng(interlaced));
  PngSpec palette{.width = 4, .height = 2, .color_type = PNG_COLOR_TYPE_PALETTE,
                  .bit_depth = 2};
  palette.rows = {0x1B, 0xE4};  // 2 bits per pixel, MSB first
  palette.palette_rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0};
  palette.trns = {255, 128};
  Write(dir, "palette2_trns.png", WriteTestPng(palette));
  PngSpec gray16{.width = 2, .height = 2, .color_type = PNG_COLOR_TYPE_GRAY,
                 .bit_depth = 16};
  gray16.rows = {0x00, 0x00, 0xFF, 0xFF, 0x80, 0x00, 0x12, 0x34};
  Write(dir, "gray16.png", WriteTestPng(gray16));
  PngSpec rgba{.width = w, .height = h, .color_type = PNG_COLOR_TYPE_RGBA};
  rgba.rows = Quadrants(w, h, 4);
  Write(dir, "rgba8.png", WriteTestPng(rgba));

  JpegSpec jpeg{.width = w, .height = h, .color_space = JCS_RGB};
  jpeg.samples = Quadrants(w, h, 3);
  Write(dir, "baseline.jpg", WriteTestJpeg(jpeg));
  JpegSpec progressive = jpeg;
  progressive.progressive = true;
  progressive.app1 = ExifPayload(6, /*little_endian=*/true);
  Write(dir, "progressive_exif6.jpg", WriteTestJpeg(progressive));
  JpegSpec gray{.width = w, .height = h, .color_space = JCS_GRAYSCALE,
                .components = 1};
  gray.samples.assign(static_cast<size_t>(w) * h, 128);
  Write(dir, "gray.jpg", WriteTestJpeg(gray));

  Write(dir, "lossy.webp", WriteTestWebpLossy(w, h, Quadrants(w, h, 3)));
  Write(dir, "lossless.webp", WriteTestWebpLossless(w, h, Quadrants(w, h, 4)));
  Write(dir, "animated.webp",
        WriteTestWebpAnimation(4, 4, {Quadrants(4, 4, 4), Quadrants(4, 4, 4)}));
  return 0;
}
