#include "images/webp_codec.h"

#include <algorithm>
#include <cstdlib>
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

constexpr int kWidth = 40;
constexpr int kHeight = 24;

absl::StatusOr<DecodedImage> Decode(const std::string& bytes) {
  absl::StatusOr<ImageHeader> header = ReadWebpHeader(bytes);
  if (!header.ok()) return header.status();
  return DecodeWebp(bytes, *header);
}

// Lossy: every channel within `tolerance`, except within 4 pixels of the
// quadrant borders, which chroma subsampling smears.
void ExpectNearAwayFromBorders(const std::vector<uint8_t>& actual,
                               const std::vector<uint8_t>& expected,
                               int tolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  int worst = 0;
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      if (std::abs(x - kWidth / 2) < 4 || std::abs(y - kHeight / 2) < 4) {
        continue;
      }
      for (size_t c = 0; c < 3; ++c) {
        const size_t i = 3 * (size_t{kWidth} * y + x) + c;
        worst = std::max(worst, std::abs(actual[i] - expected[i]));
      }
    }
  }
  EXPECT_LE(worst, tolerance);
}

// RGBA with a horizontal alpha ramp, and what it looks like over white.
struct AlphaFixture {
  std::vector<uint8_t> rgba;
  std::vector<uint8_t> over_white;
};
AlphaFixture AlphaRamp() {
  AlphaFixture f;
  const std::vector<uint8_t> rgb = Quadrants(kWidth, kHeight, 3);
  for (int i = 0; i < kWidth * kHeight; ++i) {
    const uint32_t alpha = (i % kWidth) * 255 / (kWidth - 1);
    for (int c = 0; c < 3; ++c) {
      f.rgba.push_back(rgb[3 * i + c]);
      f.over_white.push_back(static_cast<uint8_t>(
          (rgb[3 * i + c] * alpha + 255 * (255 - alpha) + 127) / 255));
    }
    f.rgba.push_back(alpha);
  }
  return f;
}

TEST(WebpCodecTest, LossyRgb) {
  const std::vector<uint8_t> rgb = Quadrants(kWidth, kHeight, 3);
  const std::string webp = WriteTestWebpLossy(kWidth, kHeight, rgb);
  STAMINA_ASSERT_OK_AND_ASSIGN(ImageHeader header, ReadWebpHeader(webp));
  EXPECT_EQ(header.format, ImageFormat::kWebp);
  EXPECT_EQ(header.width, kWidth);
  EXPECT_EQ(header.height, kHeight);
  STAMINA_ASSERT_OK_AND_ASSIGN(DecodedImage image, Decode(webp));
  EXPECT_EQ(image.format, ImageFormat::kWebp);
  EXPECT_EQ(image.width, kWidth);
  EXPECT_EQ(image.height, kHeight);
  ExpectNearAwayFromBorders(image.rgb, rgb, 48);
}

TEST(WebpCodecTest, LosslessWithAlphaIsCompositedOverWhiteExactly) {
  const AlphaFixture f = AlphaRamp();
  STAMINA_ASSERT_OK_AND_ASSIGN(
      DecodedImage image,
      Decode(WriteTestWebpLossless(kWidth, kHeight, f.rgba)));
  EXPECT_EQ(image.width, kWidth);
  EXPECT_EQ(image.height, kHeight);
  EXPECT_THAT(image.rgb, ElementsAreArray(f.over_white));
}

TEST(WebpCodecTest, LossyWithAlpha) {
  const AlphaFixture f = AlphaRamp();
  STAMINA_ASSERT_OK_AND_ASSIGN(
      DecodedImage image,
      Decode(WriteTestWebpLossyRgba(kWidth, kHeight, f.rgba)));
  EXPECT_EQ(image.width, kWidth);
  // The left column is fully transparent: white whatever the colour.
  for (int y = 0; y < kHeight; ++y) {
    for (int c = 0; c < 3; ++c) {
      EXPECT_GE(image.rgb[3 * size_t{kWidth} * y + c], 250);
    }
  }
}

TEST(WebpCodecTest, AnimationDecodesToFirstFrame) {
  const std::vector<uint8_t> first = Quadrants(kWidth, kHeight, 4);
  const std::vector<uint8_t> second(size_t{4} * kWidth * kHeight, 0x40);
  const std::string webp =
      WriteTestWebpAnimation(kWidth, kHeight, {first, second});
  STAMINA_ASSERT_OK_AND_ASSIGN(ImageHeader header, ReadWebpHeader(webp));
  EXPECT_EQ(header.width, kWidth);
  EXPECT_EQ(header.height, kHeight);
  STAMINA_ASSERT_OK_AND_ASSIGN(DecodedImage image, Decode(webp));
  EXPECT_EQ(image.width, kWidth);
  EXPECT_EQ(image.height, kHeight);
  EXPECT_THAT(image.rgb, ElementsAreArray(Quadrants(kWidth, kHeight, 3)));
}

TEST(WebpCodecTest, TruncatedAndGarbageAreInvalidArgument) {
  const std::string webp = WriteTestWebpLossy(
      kWidth, kHeight, Quadrants(kWidth, kHeight, 3));
  EXPECT_THAT(Decode(webp.substr(0, webp.size() / 2)),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadWebpHeader("RIFF\x10\0\0\0WEBPVP8 garbage"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("WebP: bad header")));
}

}  // namespace
}  // namespace stamina::images
