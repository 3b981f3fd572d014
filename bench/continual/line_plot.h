// File: bench/continual/line_plot.h
//
// A line chart as an image: one coloured polyline per series over tasks
// 1, 2, ... (series value i is task i + 1), y from y_min to y_max (values
// clamped), with a light grid at the ticks, axes with tick marks and
// labels, an x-axis title, a y-axis title (turned to read bottom to top),
// an optional chart title and, right of the data area, a legend box with
// each series' colour and name. Text uses core/world/text.h.
// Thread-safe: pure functions.
#ifndef STAMINA_BENCH_CONTINUAL_LINE_PLOT_H_
#define STAMINA_BENCH_CONTINUAL_LINE_PLOT_H_

#include <string>
#include <vector>

#include "core/image.h"

namespace stamina::bench {

struct PlotSeries {
  std::string name;
  core::Rgb color;
  std::vector<double> y;  // at x = 0, 1, ... (tasks 1, 2, ...)
};

struct PlotLabels {
  std::string title;  // above the data area; "" for none
  std::string x_title = "task t";
  std::string y_title = "score";
};

// The colour of all text, tick marks and axes.
inline constexpr core::Rgb kPlotInk{40, 40, 40};

// Distinct colours for up to 6 series, in order: blue, orange, green, red,
// purple, grey.
core::Rgb SeriesColor(int index);

// A series' name as its legend shows it: at most kMaxLegendChars, a longer
// name as "..." and its end.
std::string LegendName(const PlotSeries& series, int scale);

// Where LinePlot draws, in pixels. The data area is [left, right] x
// [top, bottom]; the legend box (absent when there are no series: zero
// width) is [legend_x, legend_x + legend_w) x [legend_y, legend_y + legend_h),
// right of the data area, or inside its top-right corner when the image is
// too narrow to spare the room.
struct PlotLayout {
  int text_scale = 1;   // ticks, axis titles and legend
  int title_scale = 2;  // twice text_scale, or text_scale for a title too wide
  int left = 0;
  int top = 0;
  int right = 0;
  int bottom = 0;
  int legend_x = 0;
  int legend_y = 0;
  int legend_w = 0;
  int legend_h = 0;
};

// Tick values: multiples of a step of 1, 2 or 5 times a power of ten,
// giving at most `max_intervals` (>= 1) intervals over [lo, hi];
// 0.0, 0.1, ..., 1.0 for [0, 1] and 10.
std::vector<double> YTicks(double lo, double hi, int max_intervals);
// Task numbers to label for `tasks` tasks: 1, then the multiples of a
// 1/2/5 x 10^k step up to `tasks` (1, 5, 10, 15, 20 for 20 tasks and 4
// intervals); {1} for tasks <= 1.
std::vector<int> XTicks(int tasks, int max_intervals);

PlotLayout LinePlotLayout(const std::vector<PlotSeries>& series, double y_min, double y_max,
                          const PlotLabels& labels, int width, int height);

// With PlotLabels{} (no title, "task t", "score").
core::Image LinePlot(const std::vector<PlotSeries>& series, double y_min, double y_max,
                     int width = 640, int height = 400);
core::Image LinePlot(const std::vector<PlotSeries>& series, double y_min, double y_max,
                     const PlotLabels& labels, int width = 640, int height = 400);

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_CONTINUAL_LINE_PLOT_H_
