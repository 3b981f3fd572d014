#include "bench/continual/seed_statistics.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace stamina::bench {

double StudentT975(int dof) {
  static constexpr double kTable[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                      2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                      2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                      2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  dof = std::max(dof, 1);
  if (dof <= 30) return kTable[dof - 1];
  return 1.96 + 2.46 / dof;
}

Interval MeanInterval(const std::vector<double>& values) {
  Interval interval;
  interval.count = static_cast<int>(values.size());
  if (values.empty()) return interval;
  double sum = 0;
  for (double v : values) sum += v;
  interval.mean = sum / values.size();
  if (values.size() < 2) return interval;
  double squares = 0;
  for (double v : values) squares += (v - interval.mean) * (v - interval.mean);
  const double sd = std::sqrt(squares / (values.size() - 1));
  interval.half_width = StudentT975(interval.count - 1) * sd / std::sqrt(interval.count);
  return interval;
}

std::string VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kBetter:
      return "better";
    case Verdict::kWorse:
      return "worse";
    case Verdict::kTie:
      return "tie";
    case Verdict::kOneSeed:
      return "one seed";
  }
  return "";
}

PairedComparison ComparePaired(const std::vector<double>& ours, const std::vector<double>& theirs,
                               bool higher_is_better) {
  const size_t n = std::min(ours.size(), theirs.size());
  std::vector<double> differences;
  for (size_t s = 0; s < n; ++s) differences.push_back(ours[s] - theirs[s]);
  PairedComparison comparison;
  comparison.difference = MeanInterval(differences);
  if (n < 2) return comparison;
  const Interval& d = comparison.difference;
  if (d.low() > 0) {
    comparison.verdict = higher_is_better ? Verdict::kBetter : Verdict::kWorse;
  } else if (d.high() < 0) {
    comparison.verdict = higher_is_better ? Verdict::kWorse : Verdict::kBetter;
  } else {
    comparison.verdict = Verdict::kTie;
  }
  return comparison;
}

std::string FormatInterval(const Interval& interval, int decimals) {
  if (interval.count < 2) return absl::StrFormat("%.*f", decimals, interval.mean);
  return absl::StrFormat("%.*f ± %.*f", decimals, interval.mean, decimals, interval.half_width);
}

}  // namespace stamina::bench
