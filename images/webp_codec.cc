#include "images/webp_codec.h"

#include <webp/decode.h>
#include <webp/demux.h>

#include <cstring>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "images/pixel_ops.h"

namespace stamina::images {
namespace {

absl::string_view StatusName(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OK:
      return "ok";
    case VP8_STATUS_OUT_OF_MEMORY:
      return "out of memory";
    case VP8_STATUS_INVALID_PARAM:
      return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR:
      return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE:
      return "unsupported feature";
    case VP8_STATUS_SUSPENDED:
      return "suspended";
    case VP8_STATUS_USER_ABORT:
      return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA:
      return "not enough data (truncated file)";
  }
  return "unknown error";
}

absl::Status DecodeError(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("WebP: cannot decode: ", what));
}

struct AnimDecoderDeleter {
  void operator()(WebPAnimDecoder* decoder) const {
    WebPAnimDecoderDelete(decoder);
  }
};

absl::StatusOr<DecodedImage> DecodeFirstFrame(absl::string_view bytes,
                                              const ImageHeader& header) {
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) {
    return absl::InternalError("WebP: library version mismatch");
  }
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  const WebPData data{reinterpret_cast<const uint8_t*>(bytes.data()),
                      bytes.size()};
  std::unique_ptr<WebPAnimDecoder, AnimDecoderDeleter> decoder(
      WebPAnimDecoderNew(&data, &options));
  if (decoder == nullptr) return DecodeError("bad animation container");
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(decoder.get(), &info) ||
      static_cast<int>(info.canvas_width) != header.width ||
      static_cast<int>(info.canvas_height) != header.height) {
    return DecodeError("canvas differs from the header read earlier");
  }
  uint8_t* canvas = nullptr;
  int timestamp = 0;
  if (!WebPAnimDecoderGetNext(decoder.get(), &canvas, &timestamp)) {
    return DecodeError("first frame is corrupt or truncated");
  }
  const size_t count = size_t(header.width) * header.height;
  DecodedImage image{ImageFormat::kWebp, header.width, header.height, {}};
  image.rgb.assign(canvas, canvas + 4 * count);
  CompositeRgbaOverWhite(count, &image.rgb);
  return image;
}

}  // namespace

absl::StatusOr<ImageHeader> ReadWebpHeader(absl::string_view bytes) {
  WebPBitstreamFeatures features;
  const VP8StatusCode status = WebPGetFeatures(
      reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &features);
  if (status != VP8_STATUS_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("WebP: bad header: ", StatusName(status)));
  }
  return ImageHeader{ImageFormat::kWebp, features.width, features.height};
}

absl::StatusOr<DecodedImage> DecodeWebp(absl::string_view bytes,
                                        const ImageHeader& header) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) {
    return absl::InternalError("WebP: library version mismatch");
  }
  VP8StatusCode status = WebPGetFeatures(data, bytes.size(), &config.input);
  if (status != VP8_STATUS_OK) return DecodeError(StatusName(status));
  if (config.input.width != header.width ||
      config.input.height != header.height) {
    return DecodeError("dimensions differ from the header read earlier");
  }
  if (config.input.has_animation) return DecodeFirstFrame(bytes, header);

  const bool alpha = config.input.has_alpha != 0;
  const size_t channels = alpha ? 4 : 3;
  const size_t count = size_t(header.width) * header.height;
  DecodedImage image{ImageFormat::kWebp, header.width, header.height, {}};
  image.rgb.resize(channels * count);
  config.output.colorspace = alpha ? MODE_RGBA : MODE_RGB;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = image.rgb.data();
  config.output.u.RGBA.stride = static_cast<int>(channels * header.width);
  config.output.u.RGBA.size = image.rgb.size();
  status = WebPDecode(data, bytes.size(), &config);
  WebPFreeDecBuffer(&config.output);  // no-op for external memory
  if (status != VP8_STATUS_OK) return DecodeError(StatusName(status));
  if (alpha) CompositeRgbaOverWhite(count, &image.rgb);
  return image;
}

}  // namespace stamina::images
