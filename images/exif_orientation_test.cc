#include "images/exif_orientation.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "images/test_images.h"

namespace stamina::images {
namespace {

using ::testing::ElementsAreArray;

int Parse(const std::string& payload) {
  return ParseExifOrientation(reinterpret_cast<const uint8_t*>(payload.data()),
                              payload.size());
}

TEST(ParseExifOrientationTest, ReadsEveryValueInBothByteOrders) {
  for (int orientation = 1; orientation <= 8; ++orientation) {
    EXPECT_EQ(Parse(ExifPayload(orientation, /*little_endian=*/true)),
              orientation);
    EXPECT_EQ(Parse(ExifPayload(orientation, /*little_endian=*/false)),
              orientation);
  }
}

TEST(ParseExifOrientationTest, MalformedIsUpright) {
  EXPECT_EQ(Parse(""), 1);
  EXPECT_EQ(Parse("http://ns.adobe.com/xap/1.0/"), 1);  // XMP, not EXIF
  std::string bad_order = ExifPayload(6, true);
  bad_order[6] = 'X';
  EXPECT_EQ(Parse(bad_order), 1);
  std::string bad_magic = ExifPayload(6, true);
  bad_magic[8] = 41;
  EXPECT_EQ(Parse(bad_magic), 1);
  std::string far_ifd = ExifPayload(6, true);
  far_ifd[13] = 0x7f;  // IFD0 offset 0x7f000008
  EXPECT_EQ(Parse(far_ifd), 1);
  std::string many_entries = ExifPayload(6, false);
  many_entries[14] = char(0xff);  // count 0xff02: runs off the end
  many_entries[15] = 0x02;
  EXPECT_EQ(Parse(many_entries), 6);  // found before running off
  std::string out_of_range = ExifPayload(6, true);
  out_of_range[6 + 8 + 2 + 12 + 8] = 9;
  EXPECT_EQ(Parse(out_of_range), 1);
  std::string wrong_type = ExifPayload(6, true);
  wrong_type[6 + 8 + 2 + 12 + 2] = 4;  // LONG
  EXPECT_EQ(Parse(wrong_type), 1);
}

TEST(ParseExifOrientationTest, EveryTruncationIsSafe) {
  const std::string payload = ExifPayload(8, false);
  for (size_t size = 0; size < payload.size(); ++size) {
    const int orientation = Parse(payload.substr(0, size));
    EXPECT_TRUE(orientation == 1 || orientation == 8) << size;
  }
}

// Source 3x2, pixel labels in the red channel:  a b c / d e f.
DecodedImage Labelled() {
  DecodedImage image{ImageFormat::kJpeg, 3, 2, {}};
  for (uint8_t label : {'a', 'b', 'c', 'd', 'e', 'f'}) {
    image.rgb.insert(image.rgb.end(), {label, 0, 0});
  }
  return image;
}

std::string Labels(const DecodedImage& image) {
  std::string labels;
  for (size_t i = 0; i < image.rgb.size(); i += 3) {
    labels.push_back(char(image.rgb[i]));
  }
  return labels;
}

TEST(ApplyExifOrientationTest, EveryOrientation) {
  struct Case {
    int orientation;
    int width;
    const char* labels;
  };
  for (const Case& c : std::vector<Case>{{1, 3, "abcdef"},
                                         {2, 3, "cbafed"},
                                         {3, 3, "fedcba"},
                                         {4, 3, "defabc"},
                                         {5, 2, "adbecf"},
                                         {6, 2, "daebfc"},
                                         {7, 2, "fcebda"},
                                         {8, 2, "cfbead"},
                                         {0, 3, "abcdef"},
                                         {9, 3, "abcdef"}}) {
    DecodedImage image = Labelled();
    ApplyExifOrientation(c.orientation, &image);
    EXPECT_EQ(image.width, c.width) << c.orientation;
    EXPECT_EQ(image.height, 6 / c.width) << c.orientation;
    EXPECT_EQ(Labels(image), c.labels) << c.orientation;
  }
}

}  // namespace
}  // namespace stamina::images
