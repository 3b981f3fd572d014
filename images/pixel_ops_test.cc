#include "images/pixel_ops.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::images {
namespace {

using ::testing::ElementsAre;

TEST(CompositeRgbaOverWhiteTest, OpaqueKeepsTransparentWhitensHalfBlends) {
  std::vector<uint8_t> pixels = {10, 20, 30, 255,  //
                                 10, 20, 30, 0,    //
                                 0,  0,  0,  128};
  CompositeRgbaOverWhite(3, &pixels);
  EXPECT_THAT(pixels,
              ElementsAre(10, 20, 30, 255, 255, 255, 127, 127, 127));
}

TEST(CompositeRgbaOverWhiteTest, EmptyIsEmpty) {
  std::vector<uint8_t> pixels;
  CompositeRgbaOverWhite(0, &pixels);
  EXPECT_TRUE(pixels.empty());
}

}  // namespace
}  // namespace stamina::images
