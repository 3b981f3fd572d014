// File: core/world/png.h
//
// Owns PNG output of Images (libpng's simplified API, 8-bit RGB) and the
// contact-sheet grid used for samples.png and world previews.
// Thread-safe: pure functions (each call uses its own libpng state).
#ifndef STAMINA_CORE_WORLD_PNG_H_
#define STAMINA_CORE_WORLD_PNG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/image.h"

namespace stamina::core {

// PNG file bytes. INVALID_ARGUMENT for an empty or inconsistent image,
// INTERNAL when libpng fails.
absl::StatusOr<std::string> EncodePng(const Image& image);

// Writes `bytes` (or the encoded image) to `path`, replacing it. Errors carry
// the errno code (NOT_FOUND for a missing directory).
absl::Status WriteFile(absl::string_view path, absl::string_view bytes);
absl::Status WritePng(const Image& image, absl::string_view path);

// Tiles `images` row by row into rows x cols cells with a 1-pixel gutter of
// `gutter` colour between cells (none around the border): the result is
// (cols * w + cols - 1) x (rows * h + rows - 1). Cells past the last image
// are gutter-coloured. INVALID_ARGUMENT when images differ in size, are
// empty, or do not fit.
absl::StatusOr<Image> MakeGrid(const std::vector<Image>& images, int rows,
                               int cols, Rgb gutter = {0, 0, 0});
absl::Status WriteGridPng(const std::vector<Image>& images, int rows, int cols,
                          absl::string_view path);

}  // namespace stamina::core

#endif  // STAMINA_CORE_WORLD_PNG_H_
