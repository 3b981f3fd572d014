#include "images/test_images.h"

#include <cstddef>
#include <cstdio>
#include <cstdlib>

#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>

namespace stamina::images {
namespace {

[[noreturn]] void Die(const char* what, const char* message) {
  std::fprintf(stderr, "test %s encoder failed: %s\n", what, message);
  std::abort();
}

void PngFail(png_structp, png_const_charp message) { Die("PNG", message); }

void PngAppend(png_structp png, png_bytep data, size_t length) {
  static_cast<std::string*>(png_get_io_ptr(png))
      ->append(reinterpret_cast<const char*>(data), length);
}

void PngFlush(png_structp) {}

void JpegFail(j_common_ptr cinfo) {
  char message[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, message);
  Die("JPEG", message);
}

void AppendLe(std::string* out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(char((value >> 8 * i) & 255));
}

void AppendBe(std::string* out, uint32_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out->push_back(char((value >> 8 * i) & 255));
  }
}

std::string Chunk(const char* fourcc, const std::string& payload) {
  std::string chunk(fourcc, 4);
  AppendLe(&chunk, payload.size(), 4);
  chunk += payload;
  if (payload.size() % 2 == 1) chunk.push_back('\0');
  return chunk;
}

std::string TakeWebp(uint8_t* data, size_t size) {
  if (size == 0) Die("WebP", "WebPEncode* returned 0 bytes");
  std::string out(reinterpret_cast<const char*>(data), size);
  WebPFree(data);
  return out;
}

}  // namespace

std::string WriteTestPng(const PngSpec& spec) {
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr,
                                            PngFail, nullptr);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(png, &out, PngAppend, PngFlush);
  png_set_IHDR(png, info, spec.width, spec.height, spec.bit_depth,
               spec.color_type,
               spec.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  std::vector<png_color> palette;
  for (size_t i = 0; i + 2 < spec.palette_rgb.size(); i += 3) {
    palette.push_back({spec.palette_rgb[i], spec.palette_rgb[i + 1],
                       spec.palette_rgb[i + 2]});
  }
  if (!palette.empty()) {
    png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
  }
  if (!spec.trns.empty()) {
    if (spec.color_type == PNG_COLOR_TYPE_PALETTE) {
      png_set_tRNS(png, info, spec.trns.data(),
                   static_cast<int>(spec.trns.size()), nullptr);
    } else {
      png_color_16 key{};
      key.gray = spec.trns[0];
      if (spec.trns.size() >= 3) {
        key.red = spec.trns[0];
        key.green = spec.trns[1];
        key.blue = spec.trns[2];
      }
      png_set_tRNS(png, info, nullptr, 0, &key);
    }
  }
  png_write_info(png, info);
  const size_t row_bytes = png_get_rowbytes(png, info);
  if (spec.rows.size() != row_bytes * spec.height) Die("PNG", "row size");
  std::vector<png_bytep> rows;
  for (int y = 0; y < spec.height; ++y) {
    rows.push_back(const_cast<png_bytep>(spec.rows.data() + row_bytes * y));
  }
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

std::string WritePngHeaderOnly(int width, int height) {
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr,
                                            PngFail, nullptr);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(png, &out, PngAppend, PngFlush);
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

std::string WriteTestJpeg(const JpegSpec& spec) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr error;
  cinfo.err = jpeg_std_error(&error);
  error.error_exit = JpegFail;
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;  // NOLINT: libjpeg's type
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = spec.width;
  cinfo.image_height = spec.height;
  cinfo.input_components = spec.components;
  cinfo.in_color_space = static_cast<J_COLOR_SPACE>(spec.color_space);
  jpeg_set_defaults(&cinfo);
  if (spec.jpeg_color_space != 0) {
    jpeg_set_colorspace(&cinfo,
                        static_cast<J_COLOR_SPACE>(spec.jpeg_color_space));
  }
  if (!spec.adobe_marker) cinfo.write_Adobe_marker = FALSE;
  jpeg_set_quality(&cinfo, spec.quality, /*force_baseline=*/TRUE);
  if (spec.progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  if (!spec.app1.empty()) {
    jpeg_write_marker(&cinfo, JPEG_APP0 + 1,
                      reinterpret_cast<const JOCTET*>(spec.app1.data()),
                      static_cast<unsigned int>(spec.app1.size()));
  }
  const size_t stride = size_t(spec.width) * spec.components;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row =
        const_cast<JSAMPROW>(spec.samples.data() + stride * cinfo.next_scanline);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::string out(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);
  jpeg_destroy_compress(&cinfo);
  return out;
}

std::string ExifPayload(int orientation, bool little_endian) {
  auto put = [&](std::string* out, uint32_t value, int bytes) {
    little_endian ? AppendLe(out, value, bytes) : AppendBe(out, value, bytes);
  };
  std::string tiff = little_endian ? "II" : "MM";
  put(&tiff, 42, 2);
  put(&tiff, 8, 4);  // IFD0 right after the header
  put(&tiff, 2, 2);  // two entries
  put(&tiff, 0x010f, 2);  // Make, ASCII, 4 bytes inline
  put(&tiff, 2, 2);
  put(&tiff, 4, 4);
  tiff += std::string("Tst\0", 4);
  put(&tiff, 0x0112, 2);  // Orientation, SHORT, 1
  put(&tiff, 3, 2);
  put(&tiff, 1, 4);
  put(&tiff, orientation, 2);
  put(&tiff, 0, 2);
  put(&tiff, 0, 4);  // no IFD1
  return std::string("Exif\0\0", 6) + tiff;
}

std::string WriteTestWebpLossy(int width, int height,
                               const std::vector<uint8_t>& rgb) {
  uint8_t* out = nullptr;
  const size_t size =
      WebPEncodeRGB(rgb.data(), width, height, 3 * width, 90, &out);
  return TakeWebp(out, size);
}

std::string WriteTestWebpLossyRgba(int width, int height,
                                   const std::vector<uint8_t>& rgba) {
  uint8_t* out = nullptr;
  const size_t size =
      WebPEncodeRGBA(rgba.data(), width, height, 4 * width, 90, &out);
  return TakeWebp(out, size);
}

std::string WriteTestWebpLossless(int width, int height,
                                  const std::vector<uint8_t>& rgba) {
  uint8_t* out = nullptr;
  const size_t size =
      WebPEncodeLosslessRGBA(rgba.data(), width, height, 4 * width, &out);
  return TakeWebp(out, size);
}

std::string WriteTestWebpAnimation(
    int width, int height, const std::vector<std::vector<uint8_t>>& frames) {
  std::string vp8x;
  vp8x.push_back(0x02 | 0x10);  // animation, alpha
  vp8x.append(3, '\0');
  AppendLe(&vp8x, width - 1, 3);
  AppendLe(&vp8x, height - 1, 3);
  std::string anim;
  AppendLe(&anim, 0xffffffffu, 4);  // background colour (ignored by us)
  AppendLe(&anim, 0, 2);            // loop forever
  std::string body = Chunk("VP8X", vp8x) + Chunk("ANIM", anim);
  for (const std::vector<uint8_t>& frame : frames) {
    // A simple lossless file is RIFF header (12 bytes) + one VP8L chunk.
    const std::string still = WriteTestWebpLossless(width, height, frame);
    std::string anmf;
    AppendLe(&anmf, 0, 3);  // X / 2
    AppendLe(&anmf, 0, 3);  // Y / 2
    AppendLe(&anmf, width - 1, 3);
    AppendLe(&anmf, height - 1, 3);
    AppendLe(&anmf, 100, 3);  // duration, ms
    anmf.push_back(0x02);     // do not blend, do not dispose
    anmf += still.substr(12);
    body += Chunk("ANMF", anmf);
  }
  std::string file = "RIFF";
  AppendLe(&file, 4 + body.size(), 4);
  return file + "WEBP" + body;
}

std::vector<uint8_t> Quadrants(int width, int height, int channels) {
  static constexpr uint8_t kColors[4][3] = {
      {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 0}};
  std::vector<uint8_t> pixels;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const uint8_t* c = kColors[(y >= height / 2) * 2 + (x >= width / 2)];
      pixels.insert(pixels.end(), c, c + 3);
      if (channels == 4) pixels.push_back(255);
    }
  }
  return pixels;
}

}  // namespace stamina::images
