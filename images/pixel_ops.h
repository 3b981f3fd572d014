// File: images/pixel_ops.h
//
// Pixel conversions shared by the codecs.
// Thread-safe: pure functions.
#ifndef STAMINA_IMAGES_PIXEL_OPS_H_
#define STAMINA_IMAGES_PIXEL_OPS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace stamina::images {

// Turns `pixels`, `count` RGBA pixels, into `count` RGB pixels in place (the
// vector shrinks to 3 * count), compositing over opaque white. White, not
// black: transparent regions of uploads are mostly cut-out backgrounds, and
// a white backdrop is what viewers show and what training captions assume.
// Colour channels are taken as straight (not premultiplied) alpha.
void CompositeRgbaOverWhite(size_t count, std::vector<uint8_t>* pixels);

}  // namespace stamina::images

#endif  // STAMINA_IMAGES_PIXEL_OPS_H_
