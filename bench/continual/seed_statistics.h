// File: bench/continual/seed_statistics.h
//
// Statistics over benchmark seeds (issue #17): the mean of a per-seed number
// with its 95% Student-t interval, and the verdict of one method against
// another from their paired per-seed differences (seed s of both methods saw
// the same identities, renders and training noise, so the pairing removes
// what the seed itself contributes). "better" / "worse" only when the
// interval of the mean difference excludes zero; "tie" otherwise; with fewer
// than two seeds there is no interval and the verdict is "one seed".
//
// Thread-safe: pure functions.
#ifndef STAMINA_BENCH_CONTINUAL_SEED_STATISTICS_H_
#define STAMINA_BENCH_CONTINUAL_SEED_STATISTICS_H_

#include <string>
#include <vector>

namespace stamina::bench {

struct Interval {
  double mean = 0;
  // Half the width of the 95% interval; 0 with fewer than two values.
  double half_width = 0;
  int count = 0;

  double low() const { return mean - half_width; }
  double high() const { return mean + half_width; }
};

// The two-sided 97.5% quantile of Student's t with `dof` degrees of freedom
// (dof >= 1): tabulated to 30, then 1.96 + 2.46 / dof (within 0.003).
double StudentT975(int dof);

// Mean and 95% t interval of the values (sample standard deviation).
Interval MeanInterval(const std::vector<double>& values);

enum class Verdict { kBetter, kWorse, kTie, kOneSeed };
std::string VerdictName(Verdict verdict);

struct PairedComparison {
  Interval difference;  // of ours[s] - theirs[s]
  Verdict verdict = Verdict::kOneSeed;
};

// `ours` and `theirs` hold one value per seed, in the same seed order (the
// shorter length counts). higher_is_better says which way "better" points.
PairedComparison ComparePaired(const std::vector<double>& ours, const std::vector<double>& theirs,
                               bool higher_is_better);

// "0.512 ± 0.031" (or "0.512" for one value).
std::string FormatInterval(const Interval& interval, int decimals = 3);

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_CONTINUAL_SEED_STATISTICS_H_
