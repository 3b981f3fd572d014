#include "images/jpeg_codec.h"

#include <cstdio>

#include <jpeglib.h>

#include <array>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "images/test_images.h"

namespace stamina::images {
namespace {

using ::testing::HasSubstr;
using Rgb = std::array<int, 3>;

constexpr int kWidth = 48;  // non-square, so a 90-degree turn shows
constexpr int kHeight = 32;
constexpr Rgb kRed = {255, 0, 0};
constexpr Rgb kGreen = {0, 255, 0};
constexpr Rgb kBlue = {0, 0, 255};
constexpr Rgb kYellow = {255, 255, 0};

absl::StatusOr<DecodedImage> Decode(const std::string& bytes) {
  absl::StatusOr<ImageHeader> header = ReadJpegHeader(bytes);
  if (!header.ok()) return header.status();
  return DecodeJpeg(bytes, *header);
}

Rgb PixelAt(const DecodedImage& image, int x, int y) {
  const uint8_t* p = &image.rgb[3 * (size_t(image.width) * y + x)];
  return {p[0], p[1], p[2]};
}

// Lossy: each channel within 40 of the expected value.
void ExpectNear(const Rgb& actual, const Rgb& expected, const char* where) {
  for (int c = 0; c < 3; ++c) {
    EXPECT_LE(std::abs(actual[c] - expected[c]), 40)
        << where << " channel " << c << ": " << actual[c] << " vs "
        << expected[c];
  }
}

// Corners sampled 4 pixels in, away from block edges between quadrants.
void ExpectCorners(const DecodedImage& image, const Rgb& top_left,
                   const Rgb& top_right, const Rgb& bottom_left,
                   const Rgb& bottom_right) {
  const int r = image.width - 5;
  const int b = image.height - 5;
  ExpectNear(PixelAt(image, 4, 4), top_left, "top-left");
  ExpectNear(PixelAt(image, r, 4), top_right, "top-right");
  ExpectNear(PixelAt(image, 4, b), bottom_left, "bottom-left");
  ExpectNear(PixelAt(image, r, b), bottom_right, "bottom-right");
}

JpegSpec QuadrantsSpec() {
  return JpegSpec{kWidth, kHeight, JCS_RGB, 0, 3,
                  Quadrants(kWidth, kHeight, 3)};
}

TEST(JpegCodecTest, BaselineAndProgressiveRgb) {
  for (bool progressive : {false, true}) {
    JpegSpec spec = QuadrantsSpec();
    spec.progressive = progressive;
    const std::string jpeg = WriteTestJpeg(spec);
    STAMINA_ASSERT_OK_AND_ASSIGN(ImageHeader header, ReadJpegHeader(jpeg));
    EXPECT_EQ(header.format, ImageFormat::kJpeg);
    EXPECT_EQ(header.width, kWidth);
    EXPECT_EQ(header.height, kHeight);
    STAMINA_ASSERT_OK_AND_ASSIGN(DecodedImage image, Decode(jpeg));
    EXPECT_EQ(image.format, ImageFormat::kJpeg);
    ASSERT_EQ(image.width, kWidth);
    ASSERT_EQ(image.height, kHeight);
    ASSERT_EQ(image.rgb.size(), size_t{3} * kWidth * kHeight);
    ExpectCorners(image, kRed, kGreen, kBlue, kYellow);
  }
}

TEST(JpegCodecTest, GrayscaleBecomesEqualChannels) {
  JpegSpec spec{kWidth, kHeight, JCS_GRAYSCALE, 0, 1, {}};
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) spec.samples.push_back(x * 5);
  }
  STAMINA_ASSERT_OK_AND_ASSIGN(DecodedImage image,
                               Decode(WriteTestJpeg(spec)));
  ASSERT_EQ(image.width, kWidth);
  ASSERT_EQ(image.height, kHeight);
  for (int x : {2, 20, 45}) {
    const Rgb pixel = PixelAt(image, x, 10);
    EXPECT_EQ(pixel[0], pixel[1]);
    EXPECT_EQ(pixel[1], pixel[2]);
    ExpectNear(pixel, {x * 5, x * 5, x * 5}, "gray ramp");
  }
}

// libjpeg writes CMYK with an Adobe marker, i.e. inverted: (r, g, b, 255)
// is "no black ink" and shows as (r, g, b).
TEST(JpegCodecTest, AdobeCmykAndYcckBecomeRgb) {
  for (int stored : {int{JCS_CMYK}, int{JCS_YCCK}}) {
    JpegSpec spec{kWidth, kHeight, JCS_CMYK, stored, 4,
                  Quadrants(kWidth, kHeight, 4)};
    STAMINA_ASSERT_OK_AND_ASSIGN(DecodedImage image,
                                 Decode(WriteTestJpeg(spec)));
    SCOPED_TRACE(stored);
    ASSERT_EQ(image.width, kWidth);
    ExpectCorners(image, kRed, kGreen, kBlue, kYellow);
  }
}

// Without the Adobe marker, samples are ink amounts: red is M=Y=255.
TEST(JpegCodecTest, PlainCmykBecomesRgb) {
  JpegSpec spec{kWidth, kHeight, JCS_CMYK, 0, 4, {}};
  spec.adobe_marker = false;
  const std::vector<uint8_t> rgba = Quadrants(kWidth, kHeight, 4);
  for (size_t i = 0; i < rgba.size(); i += 4) {
    spec.samples.insert(spec.samples.end(),
                        {uint8_t(255 - rgba[i]), uint8_t(255 - rgba[i + 1]),
                         uint8_t(255 - rgba[i + 2]), 0});
  }
  STAMINA_ASSERT_OK_AND_ASSIGN(DecodedImage image,
                               Decode(WriteTestJpeg(spec)));
  ExpectCorners(image, kRed, kGreen, kBlue, kYellow);
}

TEST(JpegCodecTest, ExifOrientationIsApplied) {
  struct Case {
    int orientation;
    bool little_endian;
    Rgb top_left, top_right, bottom_left, bottom_right;
  };
  for (const Case& c :
       std::vector<Case>{{3, true, kYellow, kBlue, kGreen, kRed},
                         {3, false, kYellow, kBlue, kGreen, kRed},
                         {6, true, kBlue, kRed, kYellow, kGreen},
                         {6, false, kBlue, kRed, kYellow, kGreen},
                         {8, true, kGreen, kYellow, kRed, kBlue},
                         {8, false, kGreen, kYellow, kRed, kBlue}}) {
    JpegSpec spec = QuadrantsSpec();
    spec.app1 = ExifPayload(c.orientation, c.little_endian);
    const std::string jpeg = WriteTestJpeg(spec);
    SCOPED_TRACE(testing::Message() << "orientation " << c.orientation
                                    << (c.little_endian ? " II" : " MM"));
    STAMINA_ASSERT_OK_AND_ASSIGN(ImageHeader header, ReadJpegHeader(jpeg));
    EXPECT_EQ(header.width, kWidth);  // stored, not upright
    STAMINA_ASSERT_OK_AND_ASSIGN(DecodedImage image, Decode(jpeg));
    const bool swapped = c.orientation >= 5;
    ASSERT_EQ(image.width, swapped ? kHeight : kWidth);
    ASSERT_EQ(image.height, swapped ? kWidth : kHeight);
    ExpectCorners(image, c.top_left, c.top_right, c.bottom_left,
                  c.bottom_right);
  }
}

TEST(JpegCodecTest, TruncatedIsInvalidArgument) {
  const std::string jpeg = WriteTestJpeg(QuadrantsSpec());
  ASSERT_GT(jpeg.size(), 700u);
  EXPECT_THAT(Decode(jpeg.substr(0, jpeg.size() - 20)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("truncated")));
  EXPECT_THAT(Decode(jpeg.substr(0, 20)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("JPEG: bad header")));
}

TEST(JpegCodecTest, GarbageHeaderIsInvalidArgument) {
  EXPECT_THAT(ReadJpegHeader("\xff\xd8\xff\x00garbage garbage"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadJpegHeader(""),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace stamina::images
