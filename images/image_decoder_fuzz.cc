// libFuzzer target for DecodeImage (not run in CI; tagged manual). Any
// input must give OK or INVALID_ARGUMENT, an OK image must be consistent,
// and its normalized PNG must decode back to the same pixels.
//
// Built and run by tools/fuzz.sh (clang++, no Bazel; Bazel here uses gcc),
// on the seed corpus testdata/fuzz/image_decoder_fuzz/ (tiny PNG, JPEG and
// WebP files from testdata/fuzz/make_image_seeds.cc).
#include <cstddef>
#include <cstdint>
#include <string>

#include "images/image_decoder.h"

namespace {

constexpr stamina::images::ImageLimits kLimits{.max_pixels = 1 << 22,
                                               .min_side = 1};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using stamina::images::DecodedImage;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<DecodedImage> image =
      stamina::images::DecodeImage(bytes, kLimits);
  if (!image.ok()) {
    if (image.status().code() != absl::StatusCode::kInvalidArgument) {
      __builtin_trap();
    }
    return 0;
  }
  if (image->width <= 0 || image->height <= 0 ||
      image->rgb.size() != size_t{3} * image->width * image->height) {
    __builtin_trap();
  }
  const absl::StatusOr<std::string> png = stamina::images::EncodePng(*image);
  if (!png.ok()) __builtin_trap();
  const absl::StatusOr<DecodedImage> back =
      stamina::images::DecodeImage(*png, kLimits);
  if (!back.ok() || back->rgb != image->rgb) __builtin_trap();
  return 0;
}
