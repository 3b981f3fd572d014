// File: images/image_types.h
//
// Plain values shared by the upload-verification codecs: what a header says
// (ImageHeader), the upload limits (ImageLimits) and a decoded, normalized
// picture (DecodedImage: 8-bit RGB, row-major, EXIF orientation applied).
// Formats reuse storage::ImageFormat, numbered as stamina.v1.ImageFormat.
#ifndef STAMINA_IMAGES_IMAGE_TYPES_H_
#define STAMINA_IMAGES_IMAGE_TYPES_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "storage/records.h"

namespace stamina::images {

using ImageFormat = storage::ImageFormat;

// "JPEG", "PNG" or "WebP".
inline absl::string_view ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "JPEG";
    case ImageFormat::kPng:
      return "PNG";
    case ImageFormat::kWebp:
      return "WebP";
  }
  return "unknown";
}

// Dimensions as stored in the file, before EXIF orientation (a 90-degree
// rotation swaps them; the pixel count and shortest side do not change).
struct ImageHeader {
  ImageFormat format = ImageFormat::kPng;
  int width = 0;
  int height = 0;
};

// Upload limits; the defaults are the Capabilities.limits of docs/api.md.
struct ImageLimits {
  int64_t max_bytes = 20 * 1024 * 1024;  // over: RESOURCE_EXHAUSTED
  int64_t max_pixels = 40'000'000;       // over: INVALID_ARGUMENT
  int min_side = 64;                     // under: INVALID_ARGUMENT
};

// A decoded image: 8-bit RGB, row-major, no padding, width and height after
// EXIF orientation. rgb.size() == 3 * width * height.
struct DecodedImage {
  ImageFormat format = ImageFormat::kPng;
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;
};

}  // namespace stamina::images

#endif  // STAMINA_IMAGES_IMAGE_TYPES_H_
