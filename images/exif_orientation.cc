#include "images/exif_orientation.h"

#include <cstring>
#include <utility>
#include <vector>

namespace stamina::images {
namespace {

constexpr uint16_t kOrientationTag = 0x0112;
constexpr uint16_t kTypeShort = 3;
constexpr size_t kIfdEntryBytes = 12;

// Bounds-checked reads from the TIFF block in its declared byte order.
class TiffReader {
 public:
  TiffReader(const uint8_t* data, size_t size, bool little_endian)
      : data_(data), size_(size), little_endian_(little_endian) {}

  bool Read16(size_t offset, uint16_t* value) const {
    if (offset > size_ || size_ - offset < 2) return false;
    const uint8_t* p = data_ + offset;
    *value = little_endian_ ? static_cast<uint16_t>(p[0] | (p[1] << 8))
                            : static_cast<uint16_t>((p[0] << 8) | p[1]);
    return true;
  }

  bool Read32(size_t offset, uint32_t* value) const {
    uint16_t first = 0;
    uint16_t second = 0;
    if (!Read16(offset, &first) || !Read16(offset + 2, &second)) return false;
    *value = little_endian_ ? (uint32_t{second} << 16) | first
                            : (uint32_t{first} << 16) | second;
    return true;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  bool little_endian_;
};

// Source coordinates of upright pixel (x, y) for `orientation`; `width` and
// `height` are the stored (source) dimensions.
std::pair<int, int> SourcePixel(int orientation, int x, int y, int width,
                                int height) {
  switch (orientation) {
    case 2:
      return {width - 1 - x, y};
    case 3:
      return {width - 1 - x, height - 1 - y};
    case 4:
      return {x, height - 1 - y};
    case 5:
      return {y, x};
    case 6:
      return {y, height - 1 - x};
    case 7:
      return {width - 1 - y, height - 1 - x};
    case 8:
      return {width - 1 - y, x};
    default:
      return {x, y};
  }
}

}  // namespace

int ParseExifOrientation(const uint8_t* payload, size_t size) {
  constexpr size_t kExifPrefix = 6;
  if (size < kExifPrefix + 8 || std::memcmp(payload, "Exif\0\0", 6) != 0) {
    return 1;
  }
  const uint8_t* tiff = payload + kExifPrefix;
  const size_t tiff_size = size - kExifPrefix;
  bool little_endian;
  if (tiff[0] == 'I' && tiff[1] == 'I') {
    little_endian = true;
  } else if (tiff[0] == 'M' && tiff[1] == 'M') {
    little_endian = false;
  } else {
    return 1;
  }
  const TiffReader reader(tiff, tiff_size, little_endian);
  uint16_t magic = 0;
  uint32_t ifd0 = 0;
  uint16_t entries = 0;
  if (!reader.Read16(2, &magic) || magic != 42 || !reader.Read32(4, &ifd0) ||
      !reader.Read16(ifd0, &entries)) {
    return 1;
  }
  for (uint32_t i = 0; i < entries; ++i) {
    const size_t entry = size_t{ifd0} + 2 + kIfdEntryBytes * i;
    uint16_t tag = 0;
    uint16_t type = 0;
    uint32_t count = 0;
    uint16_t value = 0;
    if (!reader.Read16(entry, &tag)) return 1;
    if (tag != kOrientationTag) continue;
    if (!reader.Read16(entry + 2, &type) || type != kTypeShort ||
        !reader.Read32(entry + 4, &count) || count < 1 ||
        !reader.Read16(entry + 8, &value) || value < 1 || value > 8) {
      return 1;
    }
    return value;
  }
  return 1;
}

void ApplyExifOrientation(int orientation, DecodedImage* image) {
  if (orientation < 2 || orientation > 8) return;
  const int width = image->width;
  const int height = image->height;
  const bool swap = orientation >= 5;
  const int out_width = swap ? height : width;
  const int out_height = swap ? width : height;
  std::vector<uint8_t> out(image->rgb.size());
  for (int y = 0; y < out_height; ++y) {
    for (int x = 0; x < out_width; ++x) {
      const auto [sx, sy] = SourcePixel(orientation, x, y, width, height);
      std::memcpy(&out[(size_t{3} * out_width) * y + 3 * x],
                  &image->rgb[(size_t{3} * width) * sy + 3 * sx], 3);
    }
  }
  image->rgb = std::move(out);
  image->width = out_width;
  image->height = out_height;
}

}  // namespace stamina::images
