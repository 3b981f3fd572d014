#include "core/world/png.h"

#include <png.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace stamina::core {
namespace {

absl::Status CheckImage(const Image& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() !=
          static_cast<size_t>(image.width) * image.height * 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad image ", image.width, "x", image.height, " with ",
                     image.pixels.size(), " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> EncodePng(const Image& image) {
  STAMINA_RETURN_IF_ERROR(CheckImage(image));
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = image.width;
  png.height = image.height;
  png.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  // First call measures, second writes.
  if (!png_image_write_to_memory(&png, nullptr, &size, 0, image.pixels.data(),
                                 0, nullptr)) {
    return absl::InternalError(absl::StrCat("libpng: ", png.message));
  }
  std::string bytes(size, '\0');
  if (!png_image_write_to_memory(&png, bytes.data(), &size, 0,
                                 image.pixels.data(), 0, nullptr)) {
    return absl::InternalError(absl::StrCat("libpng: ", png.message));
  }
  bytes.resize(size);
  return bytes;
}

absl::Status WriteFile(absl::string_view path, absl::string_view bytes) {
  const std::string p(path);
  std::FILE* f = std::fopen(p.c_str(), "wb");
  if (f == nullptr) return absl::ErrnoToStatus(errno, "opening " + p);
  const size_t written = std::fwrite(bytes.data(), 1, bytes.size(), f);
  const int write_errno = errno;
  if (std::fclose(f) != 0 || written != bytes.size()) {
    return absl::ErrnoToStatus(write_errno, "writing " + p);
  }
  return absl::OkStatus();
}

absl::Status WritePng(const Image& image, absl::string_view path) {
  STAMINA_ASSIGN_OR_RETURN(std::string bytes, EncodePng(image));
  return WriteFile(path, bytes);
}

absl::StatusOr<Image> MakeGrid(const std::vector<Image>& images, int rows,
                               int cols, Rgb gutter) {
  if (images.empty() || rows <= 0 || cols <= 0 ||
      images.size() > static_cast<size_t>(rows) * cols) {
    return absl::InvalidArgumentError(absl::StrCat(
        images.size(), " images do not fit a ", rows, "x", cols, " grid"));
  }
  const int w = images[0].width;
  const int h = images[0].height;
  for (const Image& image : images) {
    STAMINA_RETURN_IF_ERROR(CheckImage(image));
    if (image.width != w || image.height != h) {
      return absl::InvalidArgumentError("grid images differ in size");
    }
  }
  Image grid(cols * w + cols - 1, rows * h + rows - 1, gutter);
  for (size_t i = 0; i < images.size(); ++i) {
    const int x0 = static_cast<int>(i % cols) * (w + 1);
    const int y0 = static_cast<int>(i / cols) * (h + 1);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) grid.Set(x0 + x, y0 + y, images[i].At(x, y));
    }
  }
  return grid;
}

absl::Status WriteGridPng(const std::vector<Image>& images, int rows, int cols,
                          absl::string_view path) {
  STAMINA_ASSIGN_OR_RETURN(Image grid, MakeGrid(images, rows, cols));
  return WritePng(grid, path);
}

}  // namespace stamina::core
