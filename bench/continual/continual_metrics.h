// File: bench/continual/continual_metrics.h
//
// The summary numbers of a continual run from its (partial) score matrix
// R[t][i] (score of concept i right after task t, i <= t; higher is better):
//   A_N         mean of the final row;
//   F_inc       CODA-Prompt's incremental forgetting over the evaluated rows:
//               mean over consecutive evaluated rows (a, b) of
//               mean_{i<=a} (R[a][i] − R[b][i]) (with every row evaluated,
//               exactly CODA-P's formula);
//   F_final     mean_{i<N-1} (R[i][i] − R[N-1][i]) (the form in method.md);
//   F_best      mean_{i<N-1} (max_t R[t][i] − R[N-1][i]);
//   plasticity  P_t = R[t][t] and its least-squares slope per 10 tasks.
// Positive forgetting means worse than before. Thread-safe: pure functions.
#ifndef STAMINA_BENCH_CONTINUAL_CONTINUAL_METRICS_H_
#define STAMINA_BENCH_CONTINUAL_CONTINUAL_METRICS_H_

#include <map>
#include <vector>

namespace stamina::bench {

// Sparse R: rows[t][i] present for evaluated (t, i).
using ScoreMatrix = std::map<int, std::map<int, double>>;

struct ContinualSummary {
  double final_accuracy = 0;  // A_N
  double forgetting_incremental = 0;
  double forgetting_final = 0;
  double forgetting_best = 0;
  std::vector<double> plasticity;        // P_t, t = 0..N-1
  double plasticity_slope_per_10 = 0;    // ΔP per 10 tasks
};

// `tasks` = N; the matrix must hold the diagonal and the final row.
ContinualSummary Summarize(const ScoreMatrix& r, int tasks);

// Least-squares slope of y against x = 0, 1, ...
double Slope(const std::vector<double>& y);

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_CONTINUAL_CONTINUAL_METRICS_H_
