#include "images/image_decoder.h"

#include <cstdio>

#include <jpeglib.h>
#include <png.h>

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "images/test_images.h"

namespace stamina::images {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr int kWidth = 48;
constexpr int kHeight = 32;
constexpr ImageLimits kSmallOk{.min_side = 1};
constexpr absl::string_view kSupported = "supported formats: JPEG, PNG, WebP";

std::string Png() {
  PngSpec spec{kWidth, kHeight, PNG_COLOR_TYPE_RGB, 8};
  spec.rows = Quadrants(kWidth, kHeight, 3);
  return WriteTestPng(spec);
}

std::string Jpeg(int orientation = 1) {
  JpegSpec spec{kWidth, kHeight, JCS_RGB, 0, 3,
                Quadrants(kWidth, kHeight, 3)};
  if (orientation != 1) spec.app1 = ExifPayload(orientation, true);
  return WriteTestJpeg(spec);
}

std::string Webp() {
  return WriteTestWebpLossy(kWidth, kHeight, Quadrants(kWidth, kHeight, 3));
}

TEST(DetectImageFormatTest, FromMagicBytes) {
  EXPECT_THAT(DetectImageFormat(Png()), IsOkAndHolds(ImageFormat::kPng));
  EXPECT_THAT(DetectImageFormat(Jpeg()), IsOkAndHolds(ImageFormat::kJpeg));
  EXPECT_THAT(DetectImageFormat(Webp()), IsOkAndHolds(ImageFormat::kWebp));
}

TEST(DetectImageFormatTest, OthersNameThemselvesAndTheSupportedFormats) {
  struct Case {
    std::string bytes;
    const char* name;
  };
  for (const Case& c : std::vector<Case>{
           {"GIF89a\x10\0\x10\0", "GIF"},
           {"GIF87a", "GIF"},
           {"BM\x36\x10\0\0\0\0", "BMP"},
           {std::string("\0\0\0\x18" "ftypheic", 12), "HEIC"},
           {std::string("\0\0\0\x1c" "ftypavif", 12), "AVIF"},
           {std::string("II*\0\x08\0\0\0", 8), "TIFF"},
           {"RIFF\x24\0\0\0WAVEfmt ", "RIFF (not WebP)"},
           {"", "empty"},
           {"hello world", "unrecognized"}}) {
    EXPECT_THAT(DetectImageFormat(c.bytes),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(c.name), HasSubstr(kSupported))));
    EXPECT_THAT(DecodeImage(c.bytes),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(kSupported)));
  }
}

TEST(ReadImageHeaderTest, StoredDimensionsOfEveryFormat) {
  for (const std::string& bytes : {Png(), Jpeg(), Jpeg(6), Webp()}) {
    STAMINA_ASSERT_OK_AND_ASSIGN(ImageHeader header, ReadImageHeader(bytes));
    EXPECT_EQ(header.width, kWidth);
    EXPECT_EQ(header.height, kHeight);
  }
}

TEST(DecodeImageTest, EveryFormatToRgb) {
  for (const std::string& bytes : {Png(), Jpeg(), Webp()}) {
    STAMINA_ASSERT_OK_AND_ASSIGN(DecodedImage image,
                                 DecodeImage(bytes, kSmallOk));
    EXPECT_EQ(image.width, kWidth);
    EXPECT_EQ(image.height, kHeight);
    EXPECT_EQ(image.rgb.size(), size_t{3} * kWidth * kHeight);
  }
  STAMINA_ASSERT_OK_AND_ASSIGN(DecodedImage png, DecodeImage(Png(), kSmallOk));
  EXPECT_EQ(png.format, ImageFormat::kPng);
  EXPECT_EQ(png.rgb, Quadrants(kWidth, kHeight, 3));
}

TEST(DecodeImageTest, ExifRotationSwapsDecodedDimensions) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DecodedImage image,
                               DecodeImage(Jpeg(6), kSmallOk));
  EXPECT_EQ(image.format, ImageFormat::kJpeg);
  EXPECT_EQ(image.width, kHeight);
  EXPECT_EQ(image.height, kWidth);
}

TEST(DecodeImageTest, HugeClaimedDimensionsAreRejectedFromTheHeader) {
  const std::string bomb = WritePngHeaderOnly(100000, 100000);
  const absl::Time start = absl::Now();
  EXPECT_THAT(DecodeImage(bomb),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("100000x100000"),
                             HasSubstr("limit is 40000000 pixels"))));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(100));
}

TEST(DecodeImageTest, HugeJpegFrameIsRejectedFromTheHeader) {
  std::string jpeg = Jpeg();
  const size_t sof = jpeg.find("\xff\xc0");
  ASSERT_NE(sof, std::string::npos);
  for (size_t i : {5, 6, 7, 8}) jpeg[sof + i] = char(0xea);  // 60138x60138
  STAMINA_ASSERT_OK_AND_ASSIGN(ImageHeader header, ReadImageHeader(jpeg));
  EXPECT_EQ(header.width, 0xeaea);
  const absl::Time start = absl::Now();
  EXPECT_THAT(DecodeImage(jpeg),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("JPEG image is 60138x60138")));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(100));
}

TEST(DecodeImageTest, TooManyBytesIsResourceExhausted) {
  const std::string png = Png();
  ImageLimits limits = kSmallOk;
  limits.max_bytes = static_cast<int64_t>(png.size()) - 1;
  EXPECT_THAT(DecodeImage(png, limits),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("the limit is")));
  limits.max_bytes = static_cast<int64_t>(png.size());
  STAMINA_EXPECT_OK(DecodeImage(png, limits));
  // Checked before anything is parsed.
  EXPECT_THAT(DecodeImage(std::string(100, 'x'), {.max_bytes = 99}),
              StatusCodeIs(absl::StatusCode::kResourceExhausted));
}

TEST(DecodeImageTest, DimensionLimits) {
  EXPECT_THAT(DecodeImage(Jpeg()),  // default min_side is 64
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("JPEG image is 48x32"),
                             HasSubstr("at least 64 pixels"))));
  EXPECT_THAT(DecodeImage(Webp(), {.max_pixels = kWidth * kHeight - 1,
                                   .min_side = 1}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("WebP image is 48x32 (1536 pixels)")));
  STAMINA_EXPECT_OK(
      DecodeImage(Webp(), {.max_pixels = kWidth * kHeight, .min_side = 32}));
}

TEST(DecodeImageTest, DefaultLimitsAreTheDocumentedCapabilities) {
  const ImageLimits limits;
  EXPECT_EQ(limits.max_bytes, 20971520);
  EXPECT_EQ(limits.max_pixels, 40000000);
  EXPECT_EQ(limits.min_side, 64);
}

TEST(EncodePngTest, NormalizedFormRoundTripsThroughTheDecoder) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DecodedImage jpeg,
                               DecodeImage(Jpeg(8), kSmallOk));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string png, EncodePng(jpeg));
  STAMINA_ASSERT_OK_AND_ASSIGN(DecodedImage back, DecodeImage(png, kSmallOk));
  EXPECT_EQ(back.format, ImageFormat::kPng);
  EXPECT_EQ(back.width, jpeg.width);
  EXPECT_EQ(back.height, jpeg.height);
  EXPECT_EQ(back.rgb, jpeg.rgb);
}

}  // namespace
}  // namespace stamina::images
