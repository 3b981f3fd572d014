#include "core/world/png.h"

#include <png.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace stamina::core {
namespace {

// Decodes PNG bytes with libpng into 8-bit RGB.
Image Decode(const std::string& bytes) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  Image image;
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size())) {
    ADD_FAILURE() << png.message;
    return image;
  }
  png.format = PNG_FORMAT_RGB;
  image = Image(png.width, png.height);
  if (!png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr)) {
    ADD_FAILURE() << png.message;
  }
  return image;
}

std::string ReadFile(const std::string& path) {
  std::string bytes;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return bytes;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) bytes.append(buf, n);
  std::fclose(f);
  return bytes;
}

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

Image Gradient(int w, int h, uint8_t salt) {
  Image image(w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      image.Set(
          x, y,
          Rgb{static_cast<uint8_t>(x * 7 + salt), static_cast<uint8_t>(y * 5),
              static_cast<uint8_t>(x ^ y ^ salt)});
    }
  }
  return image;
}

TEST(PngTest, EncodeDecodeRoundTrip) {
  const Image image = Gradient(32, 20, 3);
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string bytes, EncodePng(image));
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  EXPECT_EQ(Decode(bytes), image);
}

TEST(PngTest, WritePngWritesTheEncodedBytes) {
  const Image image = Gradient(8, 8, 1);
  const std::string path = TempPath("one.png");
  STAMINA_ASSERT_OK(WritePng(image, path));
  EXPECT_EQ(Decode(ReadFile(path)), image);
}

TEST(PngTest, Errors) {
  EXPECT_THAT(EncodePng(Image()),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  Image broken(4, 4);
  broken.pixels.pop_back();
  EXPECT_THAT(EncodePng(broken),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(WritePng(Gradient(2, 2, 0), TempPath("no/such/dir/x.png")),
              StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(MakeGrid({Gradient(2, 2, 0), Gradient(3, 2, 0)}, 1, 2),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeGrid({Gradient(2, 2, 0), Gradient(2, 2, 0)}, 1, 1),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeGrid({}, 1, 1),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST(PngTest, GridLayoutAndGutter) {
  std::vector<Image> images;
  for (int i = 0; i < 5; ++i) images.push_back(Gradient(4, 3, 10 * i));
  const Rgb gutter{1, 2, 3};
  STAMINA_ASSERT_OK_AND_ASSIGN(Image grid, MakeGrid(images, 2, 3, gutter));
  EXPECT_EQ(grid.width, 3 * 4 + 2);
  EXPECT_EQ(grid.height, 2 * 3 + 1);
  // Image 4 is row 1, column 1.
  EXPECT_EQ(grid.At(5 + 2, 4 + 1), images[4].At(2, 1));
  EXPECT_EQ(grid.At(0, 0), images[0].At(0, 0));
  EXPECT_EQ(grid.At(4, 0), gutter);   // vertical gutter
  EXPECT_EQ(grid.At(0, 3), gutter);   // horizontal gutter
  EXPECT_EQ(grid.At(13, 6), gutter);  // empty last cell

  const std::string path = TempPath("grid.png");
  STAMINA_ASSERT_OK(WriteGridPng(images, 2, 3, path));
  const Image read = Decode(ReadFile(path));
  EXPECT_EQ(read.width, 14);
  EXPECT_EQ(read.height, 7);
  EXPECT_EQ(read.At(10, 0), images[2].At(0, 0));
}

}  // namespace
}  // namespace stamina::core
