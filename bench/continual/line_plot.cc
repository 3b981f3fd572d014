#include "bench/continual/line_plot.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/world/text.h"

namespace stamina::bench {
namespace {

constexpr int kMaxLegendChars = 20;
constexpr core::Rgb kGrid{225, 225, 225};
constexpr core::Rgb kLegendBorder{190, 190, 190};

void Put(core::Image& image, int x, int y, core::Rgb color) {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  image.Set(x, y, color);
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

// 1, 2 or 5 times a power of ten, at least span / max_intervals.
double NiceStep(double span, int max_intervals) {
  const double raw = span / std::max(max_intervals, 1);
  if (!(raw > 0)) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * magnitude >= raw * (1 - 1e-9)) return m * magnitude;
  }
  return 10 * magnitude;
}

std::vector<std::string> YTickLabels(const std::vector<double>& ticks) {
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  std::vector<std::string> labels;
  for (double t : ticks) labels.push_back(absl::StrFormat("%.*f", decimals, t));
  return labels;
}

int MaxWidth(const std::vector<std::string>& texts, int scale) {
  int w = 0;
  for (const std::string& t : texts) w = std::max(w, core::TextWidth(t, scale));
  return w;
}

int Intervals(int pixels, int per_tick) { return std::clamp(pixels / per_tick, 1, 10); }

}  // namespace

// Long names keep their end: the variants of one method differ in their
// last switches ("stamina-project+rms+init+early" → "...rms+init+early").
std::string LegendName(const PlotSeries& s, int scale) {
  if (s.name.size() <= static_cast<size_t>(kMaxLegendChars)) {
    return core::FitText(s.name, core::TextWidth(std::string(kMaxLegendChars, 'x'), scale), scale);
  }
  return "..." + s.name.substr(s.name.size() - (kMaxLegendChars - 3));
}

core::Rgb SeriesColor(int index) {
  // The first six as before (committed charts keep their colours), then
  // six more, so ablations of up to 12 lines differ.
  static const core::Rgb kColors[] = {{31, 119, 180}, {255, 127, 14},  {44, 160, 44},
                                      {214, 39, 40},  {148, 103, 189}, {127, 127, 127},
                                      {140, 86, 75},  {227, 119, 194}, {188, 189, 34},
                                      {23, 190, 207}, {0, 0, 0},       {0, 110, 110}};
  return kColors[index % 12];
}

std::vector<double> YTicks(double lo, double hi, int max_intervals) {
  if (!(hi > lo)) return {lo};
  const double step = NiceStep(hi - lo, max_intervals);
  std::vector<double> ticks;
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step; k += 1) {
    ticks.push_back(std::abs(k) < 0.5 ? 0.0 : k * step);  // no -0
  }
  return ticks;
}

std::vector<int> XTicks(int tasks, int max_intervals) {
  std::vector<int> ticks = {1};
  if (tasks <= 1) return ticks;
  const int step = std::max(1, static_cast<int>(std::lround(NiceStep(tasks - 1, max_intervals))));
  for (int t = step; t <= tasks; t += step) {
    if (2 * (t - 1) >= step) ticks.push_back(t);
  }
  return ticks;
}

PlotLayout LinePlotLayout(const std::vector<PlotSeries>& series, double y_min, double y_max,
                          const PlotLabels& labels, int width, int height) {
  PlotLayout l;
  const int s = l.text_scale = std::max(1, std::min(width / 640, height / 400));
  const int pad = 6 * s, th = core::TextHeight(s), tick = 4 * s;
  l.title_scale = core::TextWidth(labels.title, 2 * s) <= width - 2 * pad ? 2 * s : s;
  l.top = pad + th / 2 + (labels.title.empty() ? 0 : core::TextHeight(l.title_scale) + pad);
  l.bottom = height - pad - th - 2 * s - tick - (labels.x_title.empty() ? 0 : th + pad);
  l.bottom = std::max(l.bottom, l.top + 1);
  const std::vector<std::string> y_labels =
      YTickLabels(YTicks(y_min, y_max, Intervals(l.bottom - l.top, 3 * th)));
  l.left = pad + (labels.y_title.empty() ? 0 : th + pad) + MaxWidth(y_labels, s) + 2 * s + tick;
  if (!series.empty()) {
    std::vector<std::string> names;
    for (const PlotSeries& one : series) names.push_back(LegendName(one, s));
    l.legend_w = 2 * pad + 16 * s + 4 * s + MaxWidth(names, s);
    l.legend_h = 2 * pad + static_cast<int>(series.size()) * (th + 4 * s) - 4 * s;
    l.legend_x = width - pad - l.legend_w;
    l.legend_y = l.top;
  }
  l.right = (series.empty() ? width : l.legend_x) - 3 * pad;
  if (!series.empty() && l.right - l.left < width / 2) {  // inside, top right
    l.right = width - 3 * pad;
    l.legend_x = l.right - pad - l.legend_w;
    l.legend_y = l.top + pad;
  }
  l.right = std::max(l.right, l.left + 1);
  return l;
}

core::Image LinePlot(const std::vector<PlotSeries>& series, double y_min, double y_max, int width,
                     int height) {
  return LinePlot(series, y_min, y_max, PlotLabels{}, width, height);
}

core::Image LinePlot(const std::vector<PlotSeries>& series, double y_min, double y_max,
                     const PlotLabels& labels, int width, int height) {
  if (!(y_max > y_min)) y_max = y_min + 1;
  core::Image image(width, height, {255, 255, 255});
  const PlotLayout l = LinePlotLayout(series, y_min, y_max, labels, width, height);
  const int s = l.text_scale, th = core::TextHeight(s), tick = 4 * s, pad = 6 * s;
  size_t points = 1;
  for (const PlotSeries& one : series) points = std::max(points, one.y.size());
  const double x_scale = points > 1 ? static_cast<double>(l.right - l.left) / (points - 1) : 0;
  const auto px = [&](double x) { return l.left + x * x_scale; };
  const auto py = [&](double y) {
    const double f = (std::clamp(y, y_min, y_max) - y_min) / (y_max - y_min);
    return l.bottom - f * (l.bottom - l.top);
  };
  // Grid, axes, ticks and their labels.
  const std::vector<double> y_ticks = YTicks(y_min, y_max, Intervals(l.bottom - l.top, 3 * th));
  const std::vector<std::string> y_labels = YTickLabels(y_ticks);
  for (size_t k = 0; k < y_ticks.size(); ++k) {
    const int y = static_cast<int>(std::lround(py(y_ticks[k])));
    Line(image, l.left, y, l.right, y, kGrid, 1);
    Line(image, l.left - tick, y, l.left, y, kPlotInk, 1);
    core::DrawText(image, l.left - tick - 2 * s - core::TextWidth(y_labels[k], s), y - 7 * s / 2,
                   y_labels[k], kPlotInk, s);
  }
  const int tasks = static_cast<int>(points);
  for (int t : XTicks(tasks, Intervals(l.right - l.left, 8 * core::kGlyphAdvance * s))) {
    const int x = static_cast<int>(std::lround(px(t - 1)));
    if (t > 1) Line(image, x, l.top, x, l.bottom, kGrid, 1);
    Line(image, x, l.bottom, x, l.bottom + tick, kPlotInk, 1);
    const std::string label = absl::StrCat(t);
    core::DrawText(image, x - core::TextWidth(label, s) / 2, l.bottom + tick + 2 * s, label,
                   kPlotInk, s);
  }
  Line(image, l.left, l.bottom, l.right, l.bottom, kPlotInk, 1);
  Line(image, l.left, l.top, l.left, l.bottom, kPlotInk, 1);
  // Titles.
  const int mid_x = (l.left + l.right) / 2, mid_y = (l.top + l.bottom) / 2;
  core::DrawText(image, mid_x - core::TextWidth(labels.x_title, s) / 2, height - pad - th,
                 labels.x_title, kPlotInk, s);
  core::DrawTextRotated90(image, pad, mid_y - core::TextWidth(labels.y_title, s) / 2,
                          labels.y_title, kPlotInk, s);
  const std::string title = core::FitText(labels.title, width - 2 * pad, l.title_scale);
  const int title_w = core::TextWidth(title, l.title_scale);
  core::DrawText(image, std::clamp(mid_x - title_w / 2, pad, std::max(pad, width - pad - title_w)),
                 pad, title, kPlotInk, l.title_scale);
  // The series, then the legend over anything they might reach.
  for (const PlotSeries& one : series) {
    for (size_t i = 1; i < one.y.size(); ++i) {
      Line(image, px(i - 1), py(one.y[i - 1]), px(i), py(one.y[i]), one.color, 3);
    }
    if (one.y.size() == 1) Line(image, px(0), py(one.y[0]), px(0), py(one.y[0]), one.color, 5);
  }
  if (series.empty()) return image;
  const int x0 = l.legend_x, y0 = l.legend_y, x1 = x0 + l.legend_w - 1, y1 = y0 + l.legend_h - 1;
  for (int y = y0; y <= y1; ++y) Line(image, x0, y, x1, y, {255, 255, 255}, 1);
  Line(image, x0, y0, x1, y0, kLegendBorder, 1);
  Line(image, x0, y1, x1, y1, kLegendBorder, 1);
  Line(image, x0, y0, x0, y1, kLegendBorder, 1);
  Line(image, x1, y0, x1, y1, kLegendBorder, 1);
  for (size_t i = 0; i < series.size(); ++i) {
    const int y = y0 + pad + static_cast<int>(i) * (th + 4 * s);
    const int swatch_y = y + 7 * s / 2;
    Line(image, x0 + pad, swatch_y, x0 + pad + 16 * s - 1, swatch_y, series[i].color, 3);
    core::DrawText(image, x0 + pad + 20 * s, y, LegendName(series[i], s), kPlotInk, s);
  }
  return image;
}

}  // namespace stamina::bench
