#include "bench/continual/continual_metrics.h"

#include <algorithm>

namespace stamina::bench {

double Slope(const std::vector<double>& y) {
  const double n = static_cast<double>(y.size());
  if (y.size() < 2) return 0;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const double x = static_cast<double>(i);
    sx += x;
    sy += y[i];
    sxx += x * x;
    sxy += x * y[i];
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

ContinualSummary Summarize(const ScoreMatrix& r, int tasks) {
  ContinualSummary s;
  const int last = tasks - 1;
  const auto at = [&](int t, int i) { return r.at(t).at(i); };
  for (int i = 0; i < tasks; ++i) s.final_accuracy += at(last, i) / tasks;
  for (int t = 0; t < tasks; ++t) s.plasticity.push_back(at(t, t));
  s.plasticity_slope_per_10 = 10 * Slope(s.plasticity);
  if (tasks < 2) return s;
  for (int i = 0; i < last; ++i) {
    double best = at(i, i);
    for (const auto& [t, row] : r) {
      if (auto it = row.find(i); it != row.end()) best = std::max(best, it->second);
    }
    s.forgetting_final += (at(i, i) - at(last, i)) / last;
    s.forgetting_best += (best - at(last, i)) / last;
  }
  // Consecutive evaluated rows with at least two entries (full rows).
  std::vector<int> rows;
  for (const auto& [t, row] : r) {
    if (static_cast<int>(row.size()) == t + 1) rows.push_back(t);
  }
  int pairs = 0;
  for (size_t k = 1; k < rows.size(); ++k) {
    const int a = rows[k - 1], b = rows[k];
    double drop = 0;
    for (int i = 0; i <= a; ++i) drop += at(a, i) - at(b, i);
    s.forgetting_incremental += drop / (a + 1);
    ++pairs;
  }
  if (pairs > 0) s.forgetting_incremental /= pairs;
  return s;
}

}  // namespace stamina::bench
