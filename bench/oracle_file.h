// File: bench/oracle_file.h
//
// The attribute oracle the benchmarks score with: read from a file, or
// trained deterministically (seed 0, core/world/oracle_training.h) and saved
// there when the file does not exist, so every benchmark on a machine uses
// the same oracle without shipping its weights. Not thread-safe.
#ifndef STAMINA_BENCH_ORACLE_FILE_H_
#define STAMINA_BENCH_ORACLE_FILE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/world/oracle.h"

namespace stamina::bench {

// Steps the benchmarks train their oracle for. At 1500 steps (this default
// until 2026-11-26) it read shape kinds right only 0.65 of the time and
// mouths, eye shapes and landmark counts 0.91-0.94 on held-out renders; at
// 6000 (12 min on one busy core) every head reads >= 0.97, shape kind
// 0.969, the rest >= 0.995 (core/world:train_oracle, 1000 renders).
inline constexpr int kDefaultOracleSteps = 6000;

// The oracle file a benchmark keeps in its output directory when --oracle is
// not given: named by the steps, so a file trained for other steps is never
// taken for it.
std::string DefaultOraclePath(const std::string& dir, int training_steps);

absl::StatusOr<std::unique_ptr<core::AttributeOracle>> LoadOrTrainOracle(
    const std::string& path, int training_steps);

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_ORACLE_FILE_H_
