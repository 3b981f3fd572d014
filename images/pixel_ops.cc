#include "images/pixel_ops.h"

namespace stamina::images {

void CompositeRgbaOverWhite(size_t count, std::vector<uint8_t>* pixels) {
  uint8_t* p = pixels->data();
  // Writing pixel i at 3i never overtakes reading it at 4i.
  for (size_t i = 0; i < count; ++i) {
    const uint32_t alpha = p[4 * i + 3];
    const uint32_t white = 255 * (255 - alpha);
    for (size_t c = 0; c < 3; ++c) {
      p[3 * i + c] =
          static_cast<uint8_t>((p[4 * i + c] * alpha + white + 127) / 255);
    }
  }
  pixels->resize(3 * count);
}

}  // namespace stamina::images
