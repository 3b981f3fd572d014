// File: images/jpeg_codec.h
//
// JPEG through libjpeg-turbo: the frame dimensions and a hardened decoder
// for untrusted uploads. Callers normally go through image_decoder.h, which
// checks the limits between ReadJpegHeader and DecodeJpeg.
// Thread-safe: pure functions; libjpeg state is per call.
#ifndef STAMINA_IMAGES_JPEG_CODEC_H_
#define STAMINA_IMAGES_JPEG_CODEC_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "images/image_types.h"

namespace stamina::images {

// Width and height from the SOF marker, as stored (before EXIF orientation).
// Reads markers only (jpeg_read_header); allocates no pixel memory.
// INVALID_ARGUMENT with libjpeg's message if the markers are bad.
absl::StatusOr<ImageHeader> ReadJpegHeader(absl::string_view bytes);

// Decodes baseline and progressive JPEG, grayscale, YCbCr/RGB and CMYK/YCCK
// to 8-bit RGB, then applies the EXIF orientation of the APP1 marker, so
// width and height are the upright ones.
// CMYK: with an Adobe APP14 marker (Photoshop and libjpeg writers, nearly all
// CMYK JPEGs in the wild) samples are stored inverted (255 = no ink), so
// R = C*K/255 etc.; without it they are taken as plain ink amounts,
// R = (255-C)*(255-K)/255. No ICC colour management.
// `header` is what ReadJpegHeader returned and the caller accepted. Corrupt
// data and truncation (libjpeg's "premature end" warning, which it would
// otherwise paper over with grey rows) are INVALID_ARGUMENT; other libjpeg
// warnings are ignored.
absl::StatusOr<DecodedImage> DecodeJpeg(absl::string_view bytes,
                                        const ImageHeader& header);

}  // namespace stamina::images

#endif  // STAMINA_IMAGES_JPEG_CODEC_H_
