#include "core/world/contact_sheet.h"

#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "core/world/png.h"
#include "core/world/text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr core::Rgb kWhite{255, 255, 255};
constexpr core::Rgb kBlack{0, 0, 0};

std::vector<core::Image> Tiles(int n, int side) {
  std::vector<core::Image> tiles;
  for (int i = 0; i < n; ++i) {
    tiles.emplace_back(side, side, core::Rgb{static_cast<uint8_t>(40 * i), 200, 100});
  }
  return tiles;
}

// Label-ink pixels in rows [y0, y1) of the margin (x < margin).
int InkRows(const core::Image& sheet, int margin, int y0, int y1) {
  int n = 0;
  for (int y = y0; y < y1; ++y) {
    for (int x = 0; x < margin; ++x) n += sheet.At(x, y) == kLabelInk;
  }
  return n;
}

TEST(ContactSheetTest, ParsesRowLabels) {
  EXPECT_THAT(ParseRowLabels(""), ElementsAre());
  EXPECT_THAT(ParseRowLabels("stamina"), ElementsAre("stamina"));
  EXPECT_THAT(ParseRowLabels("a|b c||d"), ElementsAre("a", "b c", "", "d"));
}

TEST(ContactSheetTest, LabelScaleGrowsWithRows) {
  EXPECT_EQ(LabelScale(32), 1);
  EXPECT_EQ(LabelScale(128), 2);
  EXPECT_EQ(LabelScale(1024), 3);
}

TEST(ContactSheetTest, WithoutLabelsIsTheGrid) {
  const std::vector<core::Image> tiles = Tiles(5, 8);
  STAMINA_ASSERT_OK_AND_ASSIGN(core::Image grid, core::MakeGrid(tiles, 2, 3));
  EXPECT_THAT(MakeContactSheet(tiles, 3, {}), IsOkAndHolds(grid));
}

TEST(ContactSheetTest, LabelsSitInALeftMarginCentredOnTheirRows) {
  const std::vector<core::Image> tiles = Tiles(4, 128);
  STAMINA_ASSERT_OK_AND_ASSIGN(core::Image grid, core::MakeGrid(tiles, 2, 2));
  STAMINA_ASSERT_OK_AND_ASSIGN(core::Image sheet, MakeContactSheet(tiles, 2, {"stamina", "lora"}));
  const int margin = sheet.width - grid.width - 1;
  // The margin fits "stamina" at scale 2 with 8 pixels either side.
  EXPECT_EQ(margin, core::TextWidth("stamina", 2) + 16);
  EXPECT_EQ(sheet.height, grid.height);
  for (int y = 0; y < grid.height; ++y) {
    EXPECT_EQ(sheet.At(margin, y), kBlack);
    for (int x = 0; x < grid.width; x += 7) {
      ASSERT_EQ(sheet.At(margin + 1 + x, y), grid.At(x, y)) << x << "," << y;
    }
  }
  // Each label's ink lies in the middle of its row, none near its edges.
  for (int r = 0; r < 2; ++r) {
    const int top = r * 129;
    EXPECT_GT(InkRows(sheet, margin, top + 64 - 8, top + 64 + 8), 0) << r;
    EXPECT_EQ(InkRows(sheet, margin, top, top + 40), 0) << r;
    EXPECT_EQ(InkRows(sheet, margin, top + 88, top + 128), 0) << r;
  }
  EXPECT_EQ(sheet.At(0, 0), kWhite);
}

TEST(ContactSheetTest, LongLabelsWrapWithinTheMargin) {
  const std::vector<core::Image> tiles = Tiles(2, 32);
  const std::string long_label = "a very long label that cannot possibly fit beside a 32 pixel row";
  STAMINA_ASSERT_OK_AND_ASSIGN(core::Image sheet, MakeContactSheet(tiles, 1, {long_label, "b"}));
  const int margin = sheet.width - 32 - 1;
  EXPECT_LE(margin, core::TextWidth(std::string(kMaxLabelChars, 'x'), 1) + 8);
  // Three lines fit a 32-pixel row at scale 1; all of them are inked.
  EXPECT_GT(InkRows(sheet, margin, 0, 10), 0);
  EXPECT_GT(InkRows(sheet, margin, 20, 32), 0);
}

TEST(ContactSheetTest, ATitleSitsInABandAboveTheSheet) {
  STAMINA_ASSERT_OK_AND_ASSIGN(core::Image sheet, MakeContactSheet(Tiles(2, 64), 2, {}));
  EXPECT_EQ(WithTitle(sheet, "", 64).pixels, sheet.pixels);
  const core::Image titled = WithTitle(sheet, "left: version 1  right: version 2", 64);
  const int band = TextHeight(LabelScale(64)) + 8 * LabelScale(64);
  ASSERT_EQ(titled.width, sheet.width);
  ASSERT_EQ(titled.height, sheet.height + band + 1);
  EXPECT_GT(InkRows(titled, titled.width, 0, band), 0) << "the title is drawn";
  EXPECT_EQ(titled.At(titled.width / 2, band), kBlack) << "a rule under the band";
  for (int y = 0; y < sheet.height; ++y) {
    ASSERT_EQ(titled.At(5, band + 1 + y), sheet.At(5, y));
  }
}

TEST(ContactSheetTest, RefusesAWrongNumberOfLabels) {
  EXPECT_THAT(MakeContactSheet(Tiles(4, 8), 2, {"only one"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1 row labels for 2 rows")));
  EXPECT_THAT(MakeContactSheet(Tiles(4, 8), 0, {}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeContactSheet({}, 2, {}), StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace stamina::core
