// File: core/image.h
//
// Owns the plain RGB image type of the ML library: what the pipelines
// generate and the trainer consumes (core/pipelines/image_tensor converts it
// to and from tensors), and what the synthetic world renders: 8-bit RGB,
// row-major, no padding, no torch.
// Thread-compatible: a value type; const access from several threads is safe.
#ifndef STAMINA_CORE_IMAGE_H_
#define STAMINA_CORE_IMAGE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace stamina::core {

struct Rgb {
  uint8_t r = 0;
  uint8_t g = 0;
  uint8_t b = 0;

  friend bool operator==(Rgb a, Rgb b) {
    return a.r == b.r && a.g == b.g && a.b == b.b;
  }
  friend bool operator!=(Rgb a, Rgb b) { return !(a == b); }
};

// width * height pixels, 3 bytes each (R, G, B), rows top to bottom.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;

  Image() = default;
  Image(int w, int h, Rgb fill = {})
      : width(w), height(h), pixels(static_cast<size_t>(w) * h * 3) {
    for (size_t i = 0; i < pixels.size(); i += 3) {
      pixels[i] = fill.r;
      pixels[i + 1] = fill.g;
      pixels[i + 2] = fill.b;
    }
  }

  // (x, y) must be inside the image.
  Rgb At(int x, int y) const {
    const size_t i = (static_cast<size_t>(y) * width + x) * 3;
    return {pixels[i], pixels[i + 1], pixels[i + 2]};
  }
  void Set(int x, int y, Rgb c) {
    const size_t i = (static_cast<size_t>(y) * width + x) * 3;
    pixels[i] = c.r;
    pixels[i + 1] = c.g;
    pixels[i + 2] = c.b;
  }

  friend bool operator==(const Image& a, const Image& b) {
    return a.width == b.width && a.height == b.height && a.pixels == b.pixels;
  }
  friend bool operator!=(const Image& a, const Image& b) { return !(a == b); }
};

}  // namespace stamina::core

#endif  // STAMINA_CORE_IMAGE_H_
