// libFuzzer target for DecodeImage (not run in CI; tagged manual). Any
// input must give OK or INVALID_ARGUMENT, an OK image must be consistent,
// and its normalized PNG must decode back to the same pixels.
//
// Build and run with clang (Bazel here uses gcc, so build it directly):
//   cd /work/wt-img && clang++ -std=c++17 -g -O1 -I. \
//     -fsanitize=fuzzer,address,undefined \
//     images/image_decoder_fuzz.cc images/image_decoder.cc \
//     images/png_codec.cc images/jpeg_codec.cc \
//     images/webp_codec.cc images/exif_orientation.cc \
//     images/pixel_ops.cc common/status_util.cc \
//     -lpng16 -ljpeg -lwebpdemux -lwebp -labsl_statusor -labsl_status \
//     -labsl_cord -labsl_cordz_info -labsl_cord_internal \
//     -labsl_cordz_functions -labsl_cordz_handle -labsl_str_format_internal \
//     -labsl_strings -labsl_strings_internal -labsl_int128 \
//     -labsl_throw_delegate -labsl_raw_logging_internal \
//     -labsl_synchronization -labsl_time -labsl_base -lpthread \
//     -o /tmp/image_decoder_fuzz
//   mkdir -p /tmp/corpus && /tmp/image_decoder_fuzz -max_len=65536 \
//     -rss_limit_mb=2048 /tmp/corpus
// Seed the corpus with small JPEG/PNG/WebP files for faster coverage.
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
