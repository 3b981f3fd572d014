#include "images/png_codec.h"

#include <png.h>

#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "images/test_images.h"

namespace stamina::images {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr int kWidth = 13;  // odd sizes exercise sub-byte row padding and
constexpr int kHeight = 11;  // every Adam7 pass

absl::StatusOr<DecodedImage> Decode(const std::string& bytes) {
  absl::StatusOr<ImageHeader> header = ReadPngHeader(bytes);
  if (!header.ok()) return header.status();
  return DecodePng(bytes, *header);
}

uint8_t Sample(int x, int y, int c) {
  return static_cast<uint8_t>(x * 19 + y * 7 + c * 83);
}

// Expected RGB for straight alpha over white, as pixel_ops documents.
uint8_t OverWhite(uint32_t value, uint32_t alpha) {
  return static_cast<uint8_t>((value * alpha + 255 * (255 - alpha) + 127) /
                              255);
}

void ExpectDecodesTo(const PngSpec& spec, const std::vector<uint8_t>& rgb) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DecodedImage image, Decode(WriteTestPng(spec)));
  EXPECT_EQ(image.format, ImageFormat::kPng);
  EXPECT_EQ(image.width, spec.width);
  EXPECT_EQ(image.height, spec.height);
  EXPECT_THAT(image.rgb, ElementsAreArray(rgb));
}

class PngInterlaceTest : public ::testing::TestWithParam<bool> {};

TEST_P(PngInterlaceTest, Rgb8AndRgba8) {
  PngSpec rgb{kWidth, kHeight, PNG_COLOR_TYPE_RGB, 8, GetParam()};
  PngSpec rgba{kWidth, kHeight, PNG_COLOR_TYPE_RGB_ALPHA, 8, GetParam()};
  std::vector<uint8_t> expected_rgb, expected_rgba;
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      const uint8_t alpha = Sample(x, y, 3);
      for (int c = 0; c < 3; ++c) {
        rgb.rows.push_back(Sample(x, y, c));
        rgba.rows.push_back(Sample(x, y, c));
        expected_rgb.push_back(Sample(x, y, c));
        expected_rgba.push_back(OverWhite(Sample(x, y, c), alpha));
      }
      rgba.rows.push_back(alpha);
    }
  }
  ExpectDecodesTo(rgb, expected_rgb);
  ExpectDecodesTo(rgba, expected_rgba);
}

TEST_P(PngInterlaceTest, GrayAtEveryBitDepth) {
  for (int depth : {1, 2, 4, 8, 16}) {
    PngSpec spec{kWidth, kHeight, PNG_COLOR_TYPE_GRAY, depth, GetParam()};
    std::vector<uint8_t> expected;
    const int max = (1 << depth) - 1;
    for (int y = 0; y < kHeight; ++y) {
      uint32_t bits = 0;
      int pending = 0;
      for (int x = 0; x < kWidth; ++x) {
        const int value = (x * 3 + y * 5) * (depth == 16 ? 701 : 1) % (max + 1);
        if (depth == 16) {
          spec.rows.push_back(value >> 8);
          spec.rows.push_back(value & 255);
        } else {
          bits = (bits << depth) | value;
          pending += depth;
          if (pending == 8) {
            spec.rows.push_back(bits);
            bits = 0;
            pending = 0;
          }
        }
        const uint8_t gray = static_cast<uint8_t>(
            depth == 16 ? (value * 255 + 32767) / 65535 : value * 255 / max);
        expected.insert(expected.end(), {gray, gray, gray});
      }
      if (pending > 0) spec.rows.push_back(bits << (8 - pending));
    }
    SCOPED_TRACE(depth);
    ExpectDecodesTo(spec, expected);
  }
}

INSTANTIATE_TEST_SUITE_P(Interlace, PngInterlaceTest, ::testing::Bool());

TEST(PngCodecTest, GrayAlpha) {
  PngSpec spec{2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, false, {100, 255, 100, 0}};
  ExpectDecodesTo(spec, {100, 100, 100, 255, 255, 255});
}

TEST(PngCodecTest, GrayWithTransparentKeyBecomesWhite) {
  PngSpec spec{3, 1, PNG_COLOR_TYPE_GRAY, 8, false, {0, 50, 0}};
  spec.trns = {0};
  ExpectDecodesTo(spec, {255, 255, 255, 50, 50, 50, 255, 255, 255});
}

TEST(PngCodecTest, PaletteWithAndWithoutTrns) {
  PngSpec spec{4, 1, PNG_COLOR_TYPE_PALETTE, 2, false, {0b00011011}};
  spec.palette_rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30};
  ExpectDecodesTo(spec, {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30});
  spec.trns = {255, 0, 128};  // the 4th entry stays opaque
  ExpectDecodesTo(spec, {255, 0, 0, 255, 255, 255, 127, 127, 255,  //
                         10, 20, 30});
}

TEST(PngCodecTest, Rgb16AndRgba16AreScaled) {
  PngSpec rgb{1, 1, PNG_COLOR_TYPE_RGB, 16, false, {0xff, 0xff, 0x80, 0x00,
                                                    0x00, 0x7f}};
  ExpectDecodesTo(rgb, {255, 128, 0});
  PngSpec rgba{1, 1, PNG_COLOR_TYPE_RGB_ALPHA, 16, false,
               {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}};
  ExpectDecodesTo(rgba, {255, 255, 255});
}

TEST(PngCodecTest, EncodeRoundTrips) {
  DecodedImage image{ImageFormat::kPng, 5, 3, {}};
  for (int i = 0; i < 5 * 3 * 3; ++i) image.rgb.push_back(i * 5);
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string png, EncodePng(image));
  STAMINA_ASSERT_OK_AND_ASSIGN(DecodedImage back, Decode(png));
  EXPECT_EQ(back.width, 5);
  EXPECT_EQ(back.height, 3);
  EXPECT_EQ(back.rgb, image.rgb);
}

TEST(PngCodecTest, EncodeRejectsMismatchedBuffer) {
  EXPECT_THAT(EncodePng(DecodedImage{ImageFormat::kPng, 2, 2, {1, 2, 3}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("2x2")));
  EXPECT_THAT(EncodePng(DecodedImage{}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST(PngCodecTest, HeaderErrors) {
  const std::string png = WritePngHeaderOnly(7, 9);
  STAMINA_ASSERT_OK_AND_ASSIGN(ImageHeader header, ReadPngHeader(png));
  EXPECT_EQ(header.width, 7);
  EXPECT_EQ(header.height, 9);
  EXPECT_THAT(ReadPngHeader("GIF89a"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("signature")));
  EXPECT_THAT(ReadPngHeader(png.substr(0, 20)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("truncated")));
  std::string not_ihdr = png;
  not_ihdr[12] = 'X';
  EXPECT_THAT(ReadPngHeader(not_ihdr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("IHDR")));
  std::string zero = png;
  zero[16] = zero[17] = zero[18] = zero[19] = 0;
  EXPECT_THAT(ReadPngHeader(zero),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0x9")));
}

TEST(PngCodecTest, HeaderOnlyFileFailsToDecode) {
  const std::string png = WritePngHeaderOnly(7, 9);
  EXPECT_THAT(Decode(png), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("truncated")));
}

}  // namespace
}  // namespace stamina::images
