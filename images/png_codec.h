// File: images/png_codec.h
//
// PNG through libpng: the IHDR dimensions, a hardened decoder for untrusted
// uploads and the encoder of the normalized form the trainer consumes.
// Callers normally go through image_decoder.h, which checks the limits
// between ReadPngHeader and DecodePng.
// Thread-safe: pure functions; libpng state is per call.
#ifndef STAMINA_IMAGES_PNG_CODEC_H_
#define STAMINA_IMAGES_PNG_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "images/image_types.h"

namespace stamina::images {

// Width and height from the IHDR chunk (the first 24 bytes), without libpng
// and without allocating. INVALID_ARGUMENT if the signature or IHDR is bad.
absl::StatusOr<ImageHeader> ReadPngHeader(absl::string_view bytes);

// Decodes every PNG colour type and bit depth (gray, gray+alpha, palette
// with or without tRNS, RGB, RGBA; 1 to 16 bits; Adam7 interlaced) to 8-bit
// RGB. Alpha is composited over white (pixel_ops.h); 16-bit samples are
// scaled, not truncated; gAMA/iCCP are ignored (samples are taken as sRGB).
// `header` is what ReadPngHeader returned and the caller accepted; the pixel
// buffer is sized from it. Truncated or corrupt data is INVALID_ARGUMENT
// with libpng's message; trailing chunks after the image data are not read.
absl::StatusOr<DecodedImage> DecodePng(absl::string_view bytes,
                                       const ImageHeader& header);

// Encodes `image` (8-bit RGB) as a non-interlaced PNG tagged sRGB (the one
// PNG encoder of production code: the sampler's images). INVALID_ARGUMENT if
// the dimensions do not match the pixel buffer.
absl::StatusOr<std::string> EncodePng(const DecodedImage& image);

}  // namespace stamina::images

#endif  // STAMINA_IMAGES_PNG_CODEC_H_
