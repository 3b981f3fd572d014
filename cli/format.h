// File: cli/format.h
//
// Text formatting shared by the `stamina` commands: aligned tables, short
// enum names (`JOB_STATE_RUNNING` -> `RUNNING`), durations, and the one-line
// job progress label the watch bar shows.
//
// Thread-safe: pure functions.
#ifndef STAMINA_CLI_FORMAT_H_
#define STAMINA_CLI_FORMAT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "stamina/v1/job.pb.h"

namespace stamina::cli {

// Prints `header` and `rows` as left-aligned columns two spaces apart.
void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

// `name` without `prefix` when it has it (`JOB_STATE_QUEUED` -> `QUEUED`).
std::string ShortEnum(absl::string_view name, absl::string_view prefix);
std::string JobStateName(v1::JobState state);
std::string JobPhaseName(v1::JobPhase phase);
std::string MethodName(v1::TrainingMethod method);

// `1h02m`, `3m05s`, `42s`; "-" when unset.
std::string FormatDuration(const google::protobuf::Duration& duration);
// RFC 3339 in UTC; "-" when unset.
std::string FormatTimestamp(const google::protobuf::Timestamp& time);
// The part after the last `/`.
std::string LastSegment(absl::string_view name);
// The first `n` characters.
std::string Prefix(absl::string_view text, size_t n);

// `512 B`, `3.4 KiB`, `1.2 MiB`.
std::string FormatBytes(int64_t bytes);

// "RUNNING TRAINING step 5/10 loss 0.2500 ETA 42s", "QUEUED position 2".
std::string JobProgressLabel(const v1::Job& job);
// In [0, 1], or -1 when the job has no measurable progress yet.
double JobFraction(const v1::Job& job);

}  // namespace stamina::cli

#endif  // STAMINA_CLI_FORMAT_H_
