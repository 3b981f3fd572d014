#include "images/png_codec.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "images/pixel_ops.h"

// libpng reports errors by longjmp. Every function below that calls setjmp
// keeps only trivially destructible locals, so the jump never skips a
// destructor; C++ objects (the pixel vector, the output string) live in the
// caller's frame and are reached through pointers.

namespace stamina::images {
namespace {

constexpr unsigned char kPngSignature[8] = {0x89, 'P', 'N', 'G',
                                            '\r', '\n', 0x1a, '\n'};
constexpr size_t kMaxAncillaryChunkBytes = 4 << 20;

uint32_t ReadBigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Shared by the libpng callbacks through png_get_{io,error}_ptr.
struct PngContext {
  const unsigned char* data = nullptr;
  size_t size = 0;
  size_t pos = 0;
  std::string* sink = nullptr;  // encoding only
  char error[256] = "unknown libpng error";
};

void OnPngError(png_structp png, png_const_charp message) {
  auto* context = static_cast<PngContext*>(png_get_error_ptr(png));
  std::snprintf(context->error, sizeof(context->error), "%s", message);
  png_longjmp(png, 1);
}

void OnPngWarning(png_structp, png_const_charp) {}

void ReadFromMemory(png_structp png, png_bytep out, size_t length) {
  auto* context = static_cast<PngContext*>(png_get_io_ptr(png));
  if (length > context->size - context->pos) {
    png_error(png, "unexpected end of data (truncated file)");
  }
  std::memcpy(out, context->data + context->pos, length);
  context->pos += length;
}

void WriteToString(png_structp png, png_bytep data, size_t length) {
  auto* context = static_cast<PngContext*>(png_get_io_ptr(png));
  context->sink->append(reinterpret_cast<const char*>(data), length);
}

void FlushNothing(png_structp) {}

// Reads the image as 8-bit RGBA into `rgba`. Returns false after a libpng
// error (message in the context).
bool DecodeRgbaOrJump(png_structp png, png_infop info, png_uint_32 width,
                      png_uint_32 height, std::vector<uint8_t>* rgba) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  if (png_get_image_width(png, info) != width ||
      png_get_image_height(png, info) != height) {
    png_error(png, "IHDR dimensions differ from the header read earlier");
  }
  const int color_type = png_get_color_type(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  const bool has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) {
    png_set_expand_gray_1_2_4_to_8(png);
  }
  if (has_trns) png_set_tRNS_to_alpha(png);
  if (bit_depth == 16) png_set_scale_16(png);
  if ((color_type & PNG_COLOR_MASK_COLOR) == 0) png_set_gray_to_rgb(png);
  if ((color_type & PNG_COLOR_MASK_ALPHA) == 0 && !has_trns) {
    png_set_filler(png, 0xff, PNG_FILLER_AFTER);
  }
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != size_t{4} * width) {
    png_error(png, "unexpected row size after transforms");
  }
  rgba->resize(size_t{4} * width * height);
  for (int pass = 0; pass < passes; ++pass) {
    for (png_uint_32 y = 0; y < height; ++y) {
      png_read_row(png, rgba->data() + size_t{4} * width * y, nullptr);
    }
  }
  return true;
}

bool EncodeRgbOrJump(png_structp png, png_infop info,
                     const DecodedImage& image) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_IHDR(png, info, image.width, image.height, 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  // Tags the samples as sRGB, as libpng's simplified writer does, so that the
  // bytes equal those the sampler has always served.
  png_set_sRGB(png, info, PNG_sRGB_INTENT_PERCEPTUAL);
  png_write_info(png, info);
  const size_t stride = size_t{3} * image.width;
  for (int y = 0; y < image.height; ++y) {
    // libpng's API is not const-correct; png_write_row does not modify.
    png_write_row(png, const_cast<png_bytep>(image.rgb.data() + stride * y));
  }
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

absl::StatusOr<ImageHeader> ReadPngHeader(absl::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 8 || std::memcmp(p, kPngSignature, 8) != 0) {
    return absl::InvalidArgumentError("PNG: bad signature");
  }
  if (bytes.size() < 24) {
    return absl::InvalidArgumentError("PNG: truncated before IHDR");
  }
  if (ReadBigEndian32(p + 8) != 13 || std::memcmp(p + 12, "IHDR", 4) != 0) {
    return absl::InvalidArgumentError("PNG: first chunk is not IHDR");
  }
  const uint32_t width = ReadBigEndian32(p + 16);
  const uint32_t height = ReadBigEndian32(p + 20);
  // PNG's own limit is 2^31 - 1 per side.
  if (width == 0 || height == 0 || width > 0x7fffffffu ||
      height > 0x7fffffffu) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PNG: invalid IHDR dimensions ", width, "x", height));
  }
  return ImageHeader{ImageFormat::kPng, static_cast<int>(width),
                     static_cast<int>(height)};
}

absl::StatusOr<DecodedImage> DecodePng(absl::string_view bytes,
                                       const ImageHeader& header) {
  PngContext context;
  context.data = reinterpret_cast<const unsigned char*>(bytes.data());
  context.size = bytes.size();
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context,
                                           OnPngError, OnPngWarning);
  if (png == nullptr) return absl::InternalError("PNG: out of memory");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return absl::InternalError("PNG: out of memory");
  }
  png_set_read_fn(png, &context, ReadFromMemory);
  png_set_user_limits(png, header.width, header.height);
  png_set_chunk_malloc_max(png, kMaxAncillaryChunkBytes);

  DecodedImage image{ImageFormat::kPng, header.width, header.height, {}};
  const bool ok =
      DecodeRgbaOrJump(png, info, header.width, header.height, &image.rgb);
  png_destroy_read_struct(&png, &info, nullptr);
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("PNG: cannot decode: ", context.error));
  }
  CompositeRgbaOverWhite(size_t(header.width) * header.height, &image.rgb);
  return image;
}

absl::StatusOr<std::string> EncodePng(const DecodedImage& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.rgb.size() != size_t{3} * image.width * image.height) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PNG: cannot encode ", image.width, "x", image.height, " from ",
        image.rgb.size(), " bytes of RGB"));
  }
  std::string out;
  PngContext context;
  context.sink = &out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &context,
                                            OnPngError, OnPngWarning);
  if (png == nullptr) return absl::InternalError("PNG: out of memory");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    return absl::InternalError("PNG: out of memory");
  }
  png_set_write_fn(png, &context, WriteToString, FlushNothing);
  const bool ok = EncodeRgbOrJump(png, info, image);
  png_destroy_write_struct(&png, &info);
  if (!ok) {
    return absl::InternalError(
        absl::StrCat("PNG: cannot encode: ", context.error));
  }
  return out;
}

}  // namespace stamina::images
