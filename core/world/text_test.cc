#include "core/world/text.h"

#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::core {
namespace {

using ::testing::ElementsAre;

constexpr Rgb kWhite{255, 255, 255};
constexpr Rgb kInk{10, 20, 30};

// Lit pixels inside [x0, x1) x [y0, y1), and in the whole image.
int CountInk(const Image& image, int x0, int y0, int x1, int y1) {
  int n = 0;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) n += image.At(x, y) == kInk;
  }
  return n;
}
int CountInk(const Image& image) { return CountInk(image, 0, 0, image.width, image.height); }

std::vector<uint8_t> Bitmap(char c, int scale) {
  Image image(TextWidth(std::string(1, c), scale), TextHeight(scale), kWhite);
  DrawText(image, 0, 0, std::string(1, c), kInk, scale);
  return image.pixels;
}

TEST(TextTest, WidthAndHeight) {
  EXPECT_EQ(TextWidth("", 1), 0);
  EXPECT_EQ(TextWidth("A", 1), 5);
  EXPECT_EQ(TextWidth("AB", 1), 11);
  EXPECT_EQ(TextWidth("task t", 2), (6 * 6 - 1) * 2);
  EXPECT_EQ(TextHeight(1), 8);
  EXPECT_EQ(TextHeight(3), 24);
  EXPECT_EQ(TextWidth("A", 0), 5);  // scale < 1 counts as 1
  EXPECT_EQ(CharsThatFit(11, 1), 2);
  EXPECT_EQ(CharsThatFit(10, 1), 1);
  EXPECT_EQ(CharsThatFit(22, 2), 2);
  EXPECT_EQ(CharsThatFit(0, 1), 0);
}

TEST(TextTest, DrawsALetterInsideItsCellOnly) {
  Image image(40, 30, kWhite);
  DrawText(image, 10, 7, "A", kInk, 2);
  const int inside = CountInk(image, 10, 7, 10 + 5 * 2, 7 + 8 * 2);
  EXPECT_GT(inside, 0);
  EXPECT_EQ(inside % 4, 0);  // whole 2 x 2 blocks
  EXPECT_EQ(CountInk(image), inside);
  // The apex of 'A' is its top row's middle three columns.
  EXPECT_EQ(image.At(10 + 2, 7), kInk);
  EXPECT_EQ(image.At(10, 7), kWhite);
}

TEST(TextTest, AllPrintableGlyphsDiffer) {
  std::set<std::vector<uint8_t>> bitmaps;
  for (int c = 32; c <= 126; ++c) bitmaps.insert(Bitmap(static_cast<char>(c), 1));
  EXPECT_EQ(bitmaps.size(), 95u);
  for (int c = 33; c <= 126; ++c) {
    Image image(5, 8, kWhite);
    DrawText(image, 0, 0, std::string(1, static_cast<char>(c)), kInk);
    EXPECT_GT(CountInk(image), 0) << static_cast<char>(c);
  }
}

TEST(TextTest, UnknownCharactersDrawAsQuestionMarks) {
  EXPECT_EQ(Bitmap('\n', 1), Bitmap('?', 1));
  EXPECT_EQ(Bitmap('\x80', 2), Bitmap('?', 2));
}

TEST(TextTest, ClipsAtTheBorder) {
  Image image(8, 6, kWhite);
  DrawText(image, -7, -3, "Hello, world", kInk, 3);
  DrawText(image, 5, 4, "xyz", kInk, 2);
  DrawTextRotated90(image, -2, -20, "clipped", kInk, 2);
  DrawText(image, 100, 100, "far away", kInk);
  EXPECT_GT(CountInk(image), 0);
  Image empty;
  DrawText(empty, 0, 0, "nothing", kInk);
  EXPECT_EQ(empty.pixels.size(), 0u);
}

TEST(TextTest, RotatedTextReadsBottomToTop) {
  const std::string text = "L";
  Image flat(TextWidth(text, 1), TextHeight(1), kWhite);
  DrawText(flat, 0, 0, text, kInk);
  Image turned(TextHeight(1), TextWidth(text, 1), kWhite);
  DrawTextRotated90(turned, 0, 0, text, kInk);
  EXPECT_EQ(CountInk(turned), CountInk(flat));
  for (int v = 0; v < flat.height; ++v) {
    for (int u = 0; u < flat.width; ++u) {
      EXPECT_EQ(flat.At(u, v), turned.At(v, flat.width - 1 - u)) << u << "," << v;
    }
  }
}

TEST(TextTest, FitTextTruncatesWithEllipsis) {
  EXPECT_EQ(FitText("short", TextWidth("short", 1), 1), "short");
  EXPECT_EQ(FitText("ab cdefgh", TextWidth("ab cde", 1), 1), "ab...");
  EXPECT_EQ(FitText("abcdefgh", TextWidth("abcdef", 2), 2), "abc...");
  EXPECT_EQ(FitText("abcdefgh", TextWidth("ab", 1), 1), "..");
  EXPECT_EQ(FitText("abc", 0, 1), "");
}

TEST(TextTest, WrapTextBreaksAtSpacesAndEllipsises) {
  const int ten = TextWidth("0123456789", 1);
  EXPECT_THAT(WrapText("the quick brown fox jumps", ten, 1, 5),
              ElementsAre("the quick", "brown fox", "jumps"));
  EXPECT_THAT(WrapText("the quick brown fox jumps", ten, 1, 2),
              ElementsAre("the quick", "brown f..."));
  EXPECT_THAT(WrapText("abcdefghijklmnopqrstuvwxyz", ten, 1, 3),
              ElementsAre("abcdefghij", "klmnopqrst", "uvwxyz"));
  EXPECT_THAT(WrapText("  spaced   out  ", ten, 1, 3), ElementsAre("spaced out"));
  EXPECT_THAT(WrapText("", ten, 1, 3), ElementsAre());
  EXPECT_THAT(WrapText("text", ten, 1, 0), ElementsAre());
  EXPECT_THAT(WrapText("text", 0, 1, 3), ElementsAre());
}

}  // namespace
}  // namespace stamina::core
