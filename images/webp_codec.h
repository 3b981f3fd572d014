// File: images/webp_codec.h
//
// WebP through libwebp: the canvas dimensions and a decoder for untrusted
// uploads. Callers normally go through image_decoder.h, which checks the
// limits between ReadWebpHeader and DecodeWebp.
// Thread-safe: pure functions; libwebp state is per call.
#ifndef STAMINA_IMAGES_WEBP_CODEC_H_
#define STAMINA_IMAGES_WEBP_CODEC_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "images/image_types.h"

namespace stamina::images {

// Width and height from the VP8/VP8L/VP8X header (the canvas, for an
// animation), via WebPGetFeatures: no pixel memory. INVALID_ARGUMENT if the
// RIFF container or the bitstream header is bad.
absl::StatusOr<ImageHeader> ReadWebpHeader(absl::string_view bytes);

// Decodes lossy and lossless WebP to 8-bit RGB; alpha is composited over
// white (pixel_ops.h). An animation decodes to its first frame, rendered on
// the full canvas (as stamina.v1.ImageFormat documents): the upload stands
// for one picture and the first frame is what viewers show as the still.
// `header` is what ReadWebpHeader returned and the caller accepted.
// Truncated or corrupt data is INVALID_ARGUMENT.
absl::StatusOr<DecodedImage> DecodeWebp(absl::string_view bytes,
                                        const ImageHeader& header);

}  // namespace stamina::images

#endif  // STAMINA_IMAGES_WEBP_CODEC_H_
