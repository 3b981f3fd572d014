// File: bench/continual/line_plot.h
//
// A minimal line chart as an image (no text: the markdown next to it names
// the series and their colours): light grid at every 10% of the y range and
// every 10 x steps, one coloured polyline per series, y from y_min to y_max.
// Thread-safe: pure function.
#ifndef STAMINA_BENCH_CONTINUAL_LINE_PLOT_H_
#define STAMINA_BENCH_CONTINUAL_LINE_PLOT_H_

#include <string>
#include <vector>

#include "core/world/image.h"

namespace stamina::bench {

struct PlotSeries {
  std::string name;
  core::Rgb color;
  std::vector<double> y;  // at x = 0, 1, ...
};

// Distinct colours for up to 6 series, in order: blue, orange, green, red,
// purple, grey.
core::Rgb SeriesColor(int index);

core::Image LinePlot(const std::vector<PlotSeries>& series, double y_min, double y_max,
                     int width = 640, int height = 400);

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_CONTINUAL_LINE_PLOT_H_
