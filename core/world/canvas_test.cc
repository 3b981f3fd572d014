#include "core/world/canvas.h"

#include "gtest/gtest.h"

namespace stamina::core {
namespace {

constexpr Rgb kBlack{0, 0, 0};
constexpr Rgb kRed{255, 0, 0};

int CountColor(const Image& image, Rgb c) {
  int n = 0;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) n += image.At(x, y) == c;
  }
  return n;
}

TEST(CanvasTest, RectCoversExactPixelsAtIdentityPose) {
  Image image(32, 32);
  Canvas canvas(&image, Pose{});
  canvas.Rect(2, 3, 6, 5, kRed);
  EXPECT_EQ(CountColor(image, kRed), 8);
  EXPECT_EQ(image.At(2, 3), kRed);
  EXPECT_EQ(image.At(5, 4), kRed);
  EXPECT_EQ(image.At(6, 4), kBlack);
  EXPECT_EQ(image.At(2, 5), kBlack);
}

TEST(CanvasTest, ShiftFlipAndScale) {
  Image shifted(32, 32);
  Canvas(&shifted, Pose{.dx = 1, .dy = 2}).Rect(2, 3, 6, 5, kRed);
  EXPECT_EQ(shifted.At(3, 5), kRed);
  EXPECT_EQ(shifted.At(2, 3), kBlack);

  Image flipped(32, 32);
  Canvas(&flipped, Pose{.flip = true}).Rect(2, 3, 6, 5, kRed);
  EXPECT_EQ(flipped.At(29, 3), kRed);
  EXPECT_EQ(flipped.At(26, 4), kRed);
  EXPECT_EQ(flipped.At(2, 3), kBlack);

  Image big(64, 64);  // 2 pixels per design unit
  Canvas(&big, Pose{}).Rect(2, 3, 6, 5, kRed);
  EXPECT_EQ(CountColor(big, kRed), 32);

  Image scaled(32, 32);
  Canvas(&scaled, Pose{.scale = 0.5}).Rect(0, 0, 32, 32, kRed);
  EXPECT_EQ(CountColor(scaled, kRed), 16 * 16);
}

TEST(CanvasTest, ShapesStayInsideTheImage) {
  Image image(8, 8);
  Canvas canvas(&image, Pose{});
  canvas.Ellipse(0, 0, 100, 100, kRed);  // clipped, must not crash
  EXPECT_EQ(CountColor(image, kRed), 64);
}

TEST(CanvasTest, EllipsePolygonRingBar) {
  Image image(32, 32);
  Canvas canvas(&image, Pose{});
  canvas.Ellipse(16, 16, 4, 4, kRed);
  const int disc = CountColor(image, kRed);
  EXPECT_GT(disc, 40);
  EXPECT_LT(disc, 60);  // ~pi * 16
  canvas.Ring(16, 16, 4, 2, Rgb{0, 255, 0});
  EXPECT_EQ(image.At(16, 16), kRed);  // the hole keeps the disc colour
  EXPECT_EQ(image.At(16, 13), (Rgb{0, 255, 0}));

  Image tri(32, 32);
  Canvas(&tri, Pose{}).Polygon({{0, 0}, {32, 0}, {0, 32}}, kRed);
  EXPECT_EQ(tri.At(1, 1), kRed);
  EXPECT_EQ(tri.At(30, 30), kBlack);

  Image bar(32, 32);
  Canvas(&bar, Pose{}).Bar({4, 16}, {28, 16}, 2, kRed);
  EXPECT_EQ(CountColor(bar, kRed), 24 * 2);
}

}  // namespace
}  // namespace stamina::core
