#include "bench/continual/line_plot.h"

#include <algorithm>
#include <cmath>

namespace stamina::bench {
namespace {

void Put(core::Image& image, int x, int y, core::Rgb color) {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  const size_t offset = 3 * (static_cast<size_t>(y) * image.width + x);
  image.pixels[offset] = color.r;
  image.pixels[offset + 1] = color.g;
  image.pixels[offset + 2] = color.b;
}

// A segment `thickness` pixels wide, by stepping along its longer axis.
void Line(core::Image& image, double x0, double y0, double x1, double y1, core::Rgb color,
          int thickness) {
  const int steps = static_cast<int>(std::max(std::abs(x1 - x0), std::abs(y1 - y0))) + 1;
  for (int s = 0; s <= steps; ++s) {
    const double f = static_cast<double>(s) / steps;
    const int x = static_cast<int>(std::lround(x0 + f * (x1 - x0)));
    const int y = static_cast<int>(std::lround(y0 + f * (y1 - y0)));
    for (int dx = -(thickness / 2); dx <= thickness / 2; ++dx) {
      for (int dy = -(thickness / 2); dy <= thickness / 2; ++dy) Put(image, x + dx, y + dy, color);
    }
  }
}

}  // namespace

core::Rgb SeriesColor(int index) {
  static const core::Rgb kColors[] = {{31, 119, 180}, {255, 127, 14},  {44, 160, 44},
                                      {214, 39, 40},  {148, 103, 189}, {127, 127, 127}};
  return kColors[index % 6];
}

core::Image LinePlot(const std::vector<PlotSeries>& series, double y_min, double y_max,
                     int width, int height) {
  core::Image image(width, height, {255, 255, 255});
  const int margin = 20;
  const double plot_w = width - 2 * margin, plot_h = height - 2 * margin;
  size_t points = 1;
  for (const PlotSeries& s : series) points = std::max(points, s.y.size());
  const double x_scale = points > 1 ? plot_w / (points - 1) : 0;
  const auto px = [&](double x) { return margin + x * x_scale; };
  const auto py = [&](double y) {
    const double f = (std::clamp(y, y_min, y_max) - y_min) / (y_max - y_min);
    return margin + (1 - f) * plot_h;
  };
  const core::Rgb grid{225, 225, 225};
  for (int k = 0; k <= 10; ++k) {
    const double y = y_min + (y_max - y_min) * k / 10;
    Line(image, margin, py(y), width - margin, py(y), grid, 1);
  }
  for (size_t x = 0; x < points; x += 10) Line(image, px(x), margin, px(x), height - margin, grid, 1);
  const core::Rgb axis{60, 60, 60};
  Line(image, margin, height - margin, width - margin, height - margin, axis, 1);
  Line(image, margin, margin, margin, height - margin, axis, 1);
  for (const PlotSeries& s : series) {
    for (size_t i = 1; i < s.y.size(); ++i) {
      Line(image, px(i - 1), py(s.y[i - 1]), px(i), py(s.y[i]), s.color, 3);
    }
    if (s.y.size() == 1) Line(image, px(0), py(s.y[0]), px(0), py(s.y[0]), s.color, 5);
  }
  return image;
}

}  // namespace stamina::bench
