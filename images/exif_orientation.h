// File: images/exif_orientation.h
//
// EXIF orientation: reading tag 0x0112 from a JPEG APP1 "Exif" payload and
// turning decoded pixels upright.
// Thread-safe: pure functions.
#ifndef STAMINA_IMAGES_EXIF_ORIENTATION_H_
#define STAMINA_IMAGES_EXIF_ORIENTATION_H_

#include <cstddef>
#include <cstdint>

#include "images/image_types.h"

namespace stamina::images {

// The orientation (1 to 8) in an APP1 marker payload, i.e. the bytes after
// the marker's length field, starting "Exif\0\0" and then a TIFF header in
// either byte order ("II" or "MM"). Only IFD0 is read. Returns 1 (upright)
// when the payload is not EXIF, is malformed or truncated, lacks the tag or
// holds a value outside 1..8: a broken tag must not reject a good picture.
int ParseExifOrientation(const uint8_t* payload, size_t size);

// Applies `orientation` to `image` in place so that it displays upright:
// 2 mirrors left-right, 3 rotates 180 degrees, 4 mirrors top-bottom,
// 5 transposes, 6 rotates 90 degrees clockwise, 7 transverses, 8 rotates
// 90 degrees counter-clockwise; 5 to 8 swap width and height. Values outside
// 2..8 leave the image as it is.
void ApplyExifOrientation(int orientation, DecodedImage* image);

}  // namespace stamina::images

#endif  // STAMINA_IMAGES_EXIF_ORIENTATION_H_
