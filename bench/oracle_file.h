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

absl::StatusOr<std::unique_ptr<core::AttributeOracle>> LoadOrTrainOracle(
    const std::string& path, int training_steps);

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_ORACLE_FILE_H_
