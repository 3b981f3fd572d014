// Untrusted-input robustness of DecodeImage: every prefix of small valid
// files of each format and kind, and a few hundred random corruptions of
// each, must come back OK or INVALID_ARGUMENT: never a crash, a hang, an
// abort from a library, or another code. Run under --config=asan as well.
#include <cstdio>

#include <jpeglib.h>
#include <png.h>

#include <random>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "images/image_decoder.h"
#include "images/test_images.h"

namespace stamina::images {
namespace {

constexpr int kWidth = 20;
constexpr int kHeight = 12;
// Small enough that a corrupted header cannot make the test slow.
constexpr ImageLimits kLimits{.max_pixels = 1 << 20, .min_side = 1};

struct Fixture {
  const char* name;
  std::string bytes;
};

std::vector<Fixture> Fixtures() {
  PngSpec rgba{kWidth, kHeight, PNG_COLOR_TYPE_RGB_ALPHA, 8, true};
  rgba.rows = Quadrants(kWidth, kHeight, 4);
  PngSpec palette{kWidth, kHeight, PNG_COLOR_TYPE_PALETTE, 4};
  palette.palette_rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255};
  palette.trns = {255, 128};
  palette.rows.assign(size_t{kWidth / 2} * kHeight, 0x12);
  JpegSpec baseline{kWidth, kHeight, JCS_RGB, 0, 3,
                    Quadrants(kWidth, kHeight, 3)};
  baseline.quality = 50;
  JpegSpec progressive = baseline;
  progressive.progressive = true;
  progressive.app1 = ExifPayload(6, false);
  JpegSpec cmyk{kWidth, kHeight, JCS_CMYK, 0, 4,
                Quadrants(kWidth, kHeight, 4)};
  cmyk.quality = 50;
  const std::vector<uint8_t> rgba_pixels = Quadrants(kWidth, kHeight, 4);
  return {
      {"png rgba interlaced", WriteTestPng(rgba)},
      {"png palette trns", WriteTestPng(palette)},
      {"jpeg baseline", WriteTestJpeg(baseline)},
      {"jpeg progressive exif", WriteTestJpeg(progressive)},
      {"jpeg cmyk", WriteTestJpeg(cmyk)},
      {"webp lossy",
       WriteTestWebpLossy(kWidth, kHeight, Quadrants(kWidth, kHeight, 3))},
      {"webp lossless", WriteTestWebpLossless(kWidth, kHeight, rgba_pixels)},
      {"webp animated",
       WriteTestWebpAnimation(kWidth, kHeight, {rgba_pixels, rgba_pixels})},
  };
}

bool OkOrInvalidArgument(const absl::StatusOr<DecodedImage>& result) {
  return result.ok() ||
         result.status().code() == absl::StatusCode::kInvalidArgument;
}

TEST(ImageDecoderRobustnessTest, FixturesDecode) {
  for (const Fixture& f : Fixtures()) {
    EXPECT_THAT(DecodeImage(f.bytes, kLimits), IsOk()) << f.name;
  }
}

TEST(ImageDecoderRobustnessTest, EveryTruncationIsOkOrInvalidArgument) {
  for (const Fixture& f : Fixtures()) {
    int rejected = 0;
    for (size_t size = 0; size < f.bytes.size(); ++size) {
      const absl::StatusOr<DecodedImage> result =
          DecodeImage(absl::string_view(f.bytes).substr(0, size), kLimits);
      ASSERT_TRUE(OkOrInvalidArgument(result))
          << f.name << " truncated to " << size << ": " << result.status();
      if (!result.ok()) ++rejected;
    }
    // Only the last few bytes (PNG's IEND, a JPEG's EOI) may go unnoticed.
    EXPECT_GE(rejected, static_cast<int>(f.bytes.size()) - 16) << f.name;
  }
}

TEST(ImageDecoderRobustnessTest, RandomCorruptionIsOkOrInvalidArgument) {
  std::mt19937 random(20261126);
  for (const Fixture& f : Fixtures()) {
    std::uniform_int_distribution<size_t> position(0, f.bytes.size() - 1);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> flips(1, 4);
    for (int round = 0; round < 300; ++round) {
      std::string bytes = f.bytes;
      for (int i = flips(random); i > 0; --i) {
        bytes[position(random)] = static_cast<char>(byte(random));
      }
      const absl::StatusOr<DecodedImage> result = DecodeImage(bytes, kLimits);
      ASSERT_TRUE(OkOrInvalidArgument(result))
          << f.name << " round " << round << ": " << result.status();
      if (result.ok()) {
        ASSERT_EQ(result->rgb.size(),
                  size_t{3} * result->width * result->height);
      }
    }
  }
}

}  // namespace
}  // namespace stamina::images
