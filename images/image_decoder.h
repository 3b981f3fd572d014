// File: images/image_decoder.h
//
// Upload verification (UploadImages): recognises an untrusted upload by its
// bytes, reads its dimensions from the header, checks them against the
// limits before any pixel memory is allocated, and decodes it once to 8-bit
// RGB with EXIF orientation applied. EncodePng (png_codec.h, included here)
// turns the result into the normalized PNG the trainer consumes.
//
//   STAMINA_ASSIGN_OR_RETURN(DecodedImage image, DecodeImage(bytes, limits));
//   STAMINA_ASSIGN_OR_RETURN(std::string png, EncodePng(image));
//
// Errors: INVALID_ARGUMENT for unsupported, corrupt or truncated data and for
// dimensions out of range (the message says which and gives them),
// RESOURCE_EXHAUSTED for more than ImageLimits::max_bytes. Never a crash,
// an exception or output on stderr, whatever the input.
// Thread-safe: pure functions.
#ifndef STAMINA_IMAGES_IMAGE_DECODER_H_
#define STAMINA_IMAGES_IMAGE_DECODER_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "images/image_types.h"
#include "images/png_codec.h"  // IWYU pragma: export (EncodePng)

namespace stamina::images {

// The format from the magic bytes (never a file name): JPEG (FF D8 FF),
// PNG (the 8-byte signature), WebP (RIFF....WEBP). Anything else is
// INVALID_ARGUMENT listing the supported formats, and naming the format
// when it is a recognizable other one (GIF, BMP, TIFF, HEIC, AVIF, ...).
absl::StatusOr<ImageFormat> DetectImageFormat(absl::string_view bytes);

// Format and stored dimensions (before EXIF orientation), from the header
// only; allocates no pixel memory.
absl::StatusOr<ImageHeader> ReadImageHeader(absl::string_view bytes);

// OK when `header` is within `limits` (max_pixels, min_side); otherwise
// INVALID_ARGUMENT giving the dimensions and the limit.
absl::Status CheckImageLimits(const ImageHeader& header,
                              const ImageLimits& limits);

// Checks the byte size, reads the header, checks the dimensions, and only
// then decodes (see png_codec.h, jpeg_codec.h and webp_codec.h for what
// each format supports and how alpha and CMYK are handled).
absl::StatusOr<DecodedImage> DecodeImage(absl::string_view bytes,
                                         const ImageLimits& limits = {});

}  // namespace stamina::images

#endif  // STAMINA_IMAGES_IMAGE_DECODER_H_
