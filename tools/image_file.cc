#include "tools/image_file.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "images/image_decoder.h"

namespace stamina::tools {

absl::StatusOr<core::Image> ReadImageFile(const std::string& path, int scale) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream bytes;
  bytes << in.rdbuf();
  auto decoded = images::DecodeImage(
      bytes.str(), {.max_bytes = 64 << 20, .max_pixels = 16 << 20, .min_side = 1});
  if (!decoded.ok()) {
    return absl::Status(decoded.status().code(),
                        absl::StrCat(path, ": ", decoded.status().message()));
  }
  core::Image image(decoded->width * scale, decoded->height * scale);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const size_t i = (static_cast<size_t>(y / scale) * decoded->width + x / scale) * 3;
      image.Set(x, y, {decoded->rgb[i], decoded->rgb[i + 1], decoded->rgb[i + 2]});
    }
  }
  return image;
}

}  // namespace stamina::tools
