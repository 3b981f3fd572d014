#include "images/image_decoder.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "images/jpeg_codec.h"
#include "images/webp_codec.h"

namespace stamina::images {
namespace {

constexpr absl::string_view kSupported = "supported formats: JPEG, PNG, WebP";

bool StartsWith(absl::string_view bytes, absl::string_view prefix) {
  return bytes.substr(0, prefix.size()) == prefix;
}

// Formats that uploads commonly are but that we do not accept; naming them
// tells the client what to convert from.
absl::string_view RecognizeUnsupported(absl::string_view bytes) {
  if (StartsWith(bytes, "GIF87a") || StartsWith(bytes, "GIF89a")) return "GIF";
  if (StartsWith(bytes, "BM")) return "BMP";
  if (StartsWith(bytes, absl::string_view("II*\0", 4)) ||
      StartsWith(bytes, absl::string_view("MM\0*", 4))) {
    return "TIFF";
  }
  if (StartsWith(bytes, "8BPS")) return "PSD";
  if (StartsWith(bytes, "%PDF")) return "PDF";
  if (StartsWith(bytes, absl::string_view("\0\0\1\0", 4))) return "ICO";
  if (StartsWith(bytes, "\xff\x0a") ||
      StartsWith(bytes, absl::string_view("\0\0\0\x0cJXL ", 8))) {
    return "JPEG XL";
  }
  if (StartsWith(bytes, absl::string_view("\0\0\0\x0cjP  ", 8))) {
    return "JPEG 2000";
  }
  if (bytes.size() >= 12 && bytes.substr(4, 4) == "ftyp") {
    const absl::string_view brand = bytes.substr(8, 4);
    if (brand == "avif" || brand == "avis") return "AVIF";
    if (brand == "heic" || brand == "heix" || brand == "hevc" ||
        brand == "heim" || brand == "heis" || brand == "mif1" ||
        brand == "msf1") {
      return "HEIC";
    }
    return "ISO media (video?)";
  }
  if (StartsWith(bytes, "RIFF")) return "RIFF (not WebP)";
  if (StartsWith(bytes, "<?xml") || StartsWith(bytes, "<svg")) return "SVG";
  return "";
}

std::string HexPrefix(absl::string_view bytes) {
  std::string hex;
  for (size_t i = 0; i < std::min<size_t>(bytes.size(), 8); ++i) {
    absl::StrAppend(&hex, i == 0 ? "" : " ",
                    absl::StrFormat("%02x", static_cast<uint8_t>(bytes[i])));
  }
  return hex;
}

}  // namespace

absl::StatusOr<ImageFormat> DetectImageFormat(absl::string_view bytes) {
  if (StartsWith(bytes, "\xff\xd8\xff")) return ImageFormat::kJpeg;
  if (StartsWith(bytes, "\x89PNG\r\n\x1a\n")) return ImageFormat::kPng;
  if (bytes.size() >= 12 && StartsWith(bytes, "RIFF") &&
      bytes.substr(8, 4) == "WEBP") {
    return ImageFormat::kWebp;
  }
  if (bytes.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty image; ", kSupported));
  }
  const absl::string_view other = RecognizeUnsupported(bytes);
  if (!other.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported image format ", other, "; ", kSupported));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unrecognized image format (first bytes ",
                   HexPrefix(bytes), "); ", kSupported));
}

absl::StatusOr<ImageHeader> ReadImageHeader(absl::string_view bytes) {
  STAMINA_ASSIGN_OR_RETURN(const ImageFormat format, DetectImageFormat(bytes));
  switch (format) {
    case ImageFormat::kJpeg:
      return ReadJpegHeader(bytes);
    case ImageFormat::kPng:
      return ReadPngHeader(bytes);
    case ImageFormat::kWebp:
      return ReadWebpHeader(bytes);
  }
  return absl::InternalError("unhandled image format");
}

absl::Status CheckImageLimits(const ImageHeader& header,
                              const ImageLimits& limits) {
  const int64_t pixels = int64_t{header.width} * header.height;
  if (pixels > limits.max_pixels) {
    return absl::InvalidArgumentError(absl::StrCat(
        ImageFormatName(header.format), " image is ", header.width, "x",
        header.height, " (", pixels, " pixels); the limit is ",
        limits.max_pixels, " pixels"));
  }
  if (std::min(header.width, header.height) < limits.min_side) {
    return absl::InvalidArgumentError(absl::StrCat(
        ImageFormatName(header.format), " image is ", header.width, "x",
        header.height, "; each side must be at least ", limits.min_side,
        " pixels"));
  }
  return absl::OkStatus();
}

absl::StatusOr<DecodedImage> DecodeImage(absl::string_view bytes,
                                         const ImageLimits& limits) {
  if (static_cast<int64_t>(bytes.size()) > limits.max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("image is ", bytes.size(), " bytes; the limit is ",
                     limits.max_bytes, " bytes"));
  }
  STAMINA_ASSIGN_OR_RETURN(const ImageHeader header, ReadImageHeader(bytes));
  STAMINA_RETURN_IF_ERROR(CheckImageLimits(header, limits));
  switch (header.format) {
    case ImageFormat::kJpeg:
      return DecodeJpeg(bytes, header);
    case ImageFormat::kPng:
      return DecodePng(bytes, header);
    case ImageFormat::kWebp:
      return DecodeWebp(bytes, header);
  }
  return absl::InternalError("unhandled image format");
}

}  // namespace stamina::images
