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

// Bumped whenever the oracle's training recipe (core/world/oracle_training.h,
// the world's renderer) changes, so a cached file is never taken for another
// recipe.
inline constexpr int kOracleRecipe = 1;

// Where the benchmarks keep the oracle when --oracle is not given, shared by
// every benchmark and run on the machine: $STAMINA_CACHE_DIR, else
// $XDG_CACHE_HOME/stamina, else $HOME/.cache/stamina, else
// /tmp/stamina-cache; the file is named by the steps and the recipe
// (oracle-6000-r1.safetensors).
std::string OracleCachePath(int training_steps);

// Reads `path`, or trains the oracle (saying so first, with what it costs,
// then showing its progress) and saves it there, creating the directory.
absl::StatusOr<std::unique_ptr<core::AttributeOracle>> LoadOrTrainOracle(
    const std::string& path, int training_steps);

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_ORACLE_FILE_H_
