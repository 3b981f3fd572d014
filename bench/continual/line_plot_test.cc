#include "bench/continual/line_plot.h"

#include <algorithm>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::bench {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;

int Count(const core::Image& image, core::Rgb color, int x0, int y0, int x1, int y1) {
  int n = 0;
  for (int y = std::max(y0, 0); y < std::min(y1, image.height); ++y) {
    for (int x = std::max(x0, 0); x < std::min(x1, image.width); ++x) {
      n += image.At(x, y) == color;
    }
  }
  return n;
}

std::vector<PlotSeries> TwoSeries() {
  std::vector<PlotSeries> series = {{"stamina", SeriesColor(0), {}}, {"clora", SeriesColor(1), {}}};
  for (int i = 0; i < 20; ++i) {
    series[0].y.push_back(0.9 - 0.005 * i);
    series[1].y.push_back(0.8 - 0.03 * i);
  }
  return series;
}

TEST(LinePlotTest, YTicksAreRoundSteps) {
  const std::vector<double> unit = YTicks(0, 1, 10);
  ASSERT_EQ(unit.size(), 11u);
  for (int k = 0; k <= 10; ++k) EXPECT_NEAR(unit[k], 0.1 * k, 1e-12) << k;
  EXPECT_THAT(YTicks(-1, 2.5, 10), ElementsAre(-1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5));
  EXPECT_THAT(YTicks(0, 1, 4), ElementsAre(0, 0.5, 1));
  EXPECT_THAT(YTicks(0.05, 0.97, 10),
              ElementsAre(DoubleNear(0.1, 1e-12), DoubleNear(0.2, 1e-12), DoubleNear(0.3, 1e-12),
                          DoubleNear(0.4, 1e-12), DoubleNear(0.5, 1e-12), DoubleNear(0.6, 1e-12),
                          DoubleNear(0.7, 1e-12), DoubleNear(0.8, 1e-12), DoubleNear(0.9, 1e-12)));
  EXPECT_THAT(YTicks(3, 3, 10), ElementsAre(3));
}

TEST(LinePlotTest, XTicksStartAtTaskOne) {
  EXPECT_THAT(XTicks(1, 10), ElementsAre(1));
  EXPECT_THAT(XTicks(3, 10), ElementsAre(1, 2, 3));
  EXPECT_THAT(XTicks(20, 4), ElementsAre(1, 5, 10, 15, 20));
  EXPECT_THAT(XTicks(50, 10), ElementsAre(1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50));
  EXPECT_THAT(XTicks(100, 10), ElementsAre(1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100));
}

TEST(LinePlotTest, LegendShowsEverySeriesColourAndName) {
  const std::vector<PlotSeries> series = TwoSeries();
  const core::Image image = LinePlot(series, 0, 1);
  const PlotLayout l = LinePlotLayout(series, 0, 1, PlotLabels{}, 640, 400);
  ASSERT_GT(l.legend_w, 0);
  EXPECT_GT(l.legend_x, l.right);  // beside the data, not over it
  const int x1 = l.legend_x + l.legend_w, y1 = l.legend_y + l.legend_h;
  for (const PlotSeries& s : series) {
    EXPECT_GT(Count(image, s.color, l.legend_x, l.legend_y, x1, y1), 0) << s.name;
  }
  EXPECT_GT(Count(image, kPlotInk, l.legend_x, l.legend_y, x1, y1), 20);  // the names
}

TEST(LinePlotTest, AxesCarryTickLabelsAndTitles) {
  const std::vector<PlotSeries> series = TwoSeries();
  const PlotLabels labels{.title = "plasticity"};
  const core::Image image = LinePlot(series, 0, 1, labels);
  const PlotLayout l = LinePlotLayout(series, 0, 1, labels, 640, 400);
  EXPECT_EQ(image.width, 640);
  EXPECT_EQ(image.height, 400);
  // Tick labels and the y title left of the y axis, tick labels and the x
  // title below the x axis, the title above the data.
  EXPECT_GT(Count(image, kPlotInk, 0, l.top, l.left - 1, l.bottom), 50);
  EXPECT_GT(Count(image, kPlotInk, 0, 0, l.left / 3, image.height), 10);  // the y title
  EXPECT_GT(Count(image, kPlotInk, l.left, l.bottom + 1, l.right, image.height), 50);
  EXPECT_GT(Count(image, kPlotInk, 0, 0, image.width, l.top - 8), 30);
  // Without a title nothing is written above the data area.
  const core::Image plain = LinePlot(series, 0, 1);
  const PlotLayout p = LinePlotLayout(series, 0, 1, PlotLabels{}, 640, 400);
  EXPECT_LT(p.top, l.top);
  EXPECT_EQ(Count(plain, kPlotInk, 0, 0, p.legend_x, p.top - 8), 0);
}

TEST(LinePlotTest, OldSignatureUsesDefaultLabels) {
  const std::vector<PlotSeries> series = TwoSeries();
  EXPECT_EQ(LinePlot(series, 0, 1, 320, 200), LinePlot(series, 0, 1, PlotLabels{}, 320, 200));
  EXPECT_NE(LinePlot(series, 0, 1), LinePlot(series, 0, 1, PlotLabels{.x_title = "step"}));
}

TEST(LinePlotTest, DegenerateInputsDoNotCrash) {
  EXPECT_EQ(LinePlot({}, 0, 1).width, 640);
  EXPECT_EQ(LinePlotLayout({}, 0, 1, PlotLabels{}, 640, 400).legend_w, 0);
  const std::vector<PlotSeries> one = {{"one point", SeriesColor(2), {0.5}}};
  EXPECT_EQ(LinePlot(one, 1, 1).height, 400);
  const core::Image tiny = LinePlot(TwoSeries(), 0, 1, PlotLabels{.title = "a long title"}, 40, 30);
  EXPECT_EQ(tiny.width, 40);
  const core::Image big = LinePlot(TwoSeries(), 0, 1, 1280, 800);
  EXPECT_EQ(LinePlotLayout(TwoSeries(), 0, 1, PlotLabels{}, 1280, 800).text_scale, 2);
  EXPECT_EQ(big.height, 800);
}

TEST(LinePlotTest, LongLegendNamesKeepTheirEndAndTenSeriesHaveTenColors) {
  const PlotSeries long_name{"stamina-project+rms+init+early", SeriesColor(0), {0.5}};
  const std::string shown = LegendName(long_name, 1);
  EXPECT_EQ(shown.substr(0, 3), "...");
  EXPECT_EQ(shown.substr(shown.size() - 6), "+early");
  std::set<std::tuple<int, int, int>> colors;
  for (int i = 0; i < 10; ++i)
    colors.insert({SeriesColor(i).r, SeriesColor(i).g, SeriesColor(i).b});
  EXPECT_EQ(colors.size(), 10u);
}

}  // namespace
}  // namespace stamina::bench
