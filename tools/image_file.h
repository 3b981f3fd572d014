// File: tools/image_file.h
//
// Reads an image file (PNG, JPEG or WebP, through images/' decoder) into a
// core::Image, optionally scaled up by an integer factor (nearest
// neighbour): the input side of the developer tools and benchmarks that
// look at sampled PNGs (contact_sheet, bench:read_samples).
// Thread-safe: a pure function of the file.
#ifndef STAMINA_TOOLS_IMAGE_FILE_H_
#define STAMINA_TOOLS_IMAGE_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/image.h"

namespace stamina::tools {

// NOT_FOUND when the file cannot be opened; the decoder's status (with the
// path) for anything it refuses.
absl::StatusOr<core::Image> ReadImageFile(const std::string& path, int scale = 1);

}  // namespace stamina::tools

#endif  // STAMINA_TOOLS_IMAGE_FILE_H_
