#include "cli/format.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace stamina::cli {

void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  auto widen = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  widen(header);
  for (const auto& row : rows) widen(row);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      if (i + 1 == row.size()) {
        absl::StrAppend(&line, row[i]);
      } else {
        absl::StrAppend(&line, row[i],
                        std::string(widths[i] - row[i].size() + 2, ' '));
      }
    }
    out << line << '\n';
  };
  print(header);
  for (const auto& row : rows) print(row);
}

std::string ShortEnum(absl::string_view name, absl::string_view prefix) {
  if (absl::StartsWith(name, prefix)) name.remove_prefix(prefix.size());
  return std::string(name);
}

std::string JobStateName(v1::JobState state) {
  return ShortEnum(v1::JobState_Name(state), "JOB_STATE_");
}

std::string JobPhaseName(v1::JobPhase phase) {
  return ShortEnum(v1::JobPhase_Name(phase), "JOB_PHASE_");
}

std::string MethodName(v1::TrainingMethod method) {
  return ShortEnum(v1::TrainingMethod_Name(method), "TRAINING_METHOD_");
}

std::string FormatDuration(const google::protobuf::Duration& duration) {
  if (duration.seconds() <= 0 && duration.nanos() <= 0) return "-";
  const int64_t total = duration.seconds() + (duration.nanos() > 0 ? 1 : 0);
  if (total >= 3600)
    return absl::StrFormat("%dh%02dm", total / 3600, total % 3600 / 60);
  if (total >= 60) return absl::StrFormat("%dm%02ds", total / 60, total % 60);
  return absl::StrCat(total, "s");
}

std::string FormatTimestamp(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(time.seconds()),
                          absl::UTCTimeZone());
}

std::string LastSegment(absl::string_view name) {
  const size_t slash = name.rfind('/');
  return std::string(slash == absl::string_view::npos ? name
                                                      : name.substr(slash + 1));
}

std::string Prefix(absl::string_view text, size_t n) {
  return std::string(text.substr(0, n));
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  if (bytes < 1024 * 1024) return absl::StrFormat("%.1f KiB", bytes / 1024.0);
  return absl::StrFormat("%.1f MiB", bytes / (1024.0 * 1024.0));
}

std::string JobProgressLabel(const v1::Job& job) {
  const v1::JobProgress& progress = job.progress();
  std::string label = JobStateName(job.state());
  if (job.state() == v1::JOB_STATE_QUEUED) {
    absl::StrAppend(&label, " position ", progress.queue_position());
    if (!job.blocked_by().empty()) {
      absl::StrAppend(&label, " (held by FAILED ", job.blocked_by(),
                      ": retry or cancel it)");
    }
  }
  if (job.state() == v1::JOB_STATE_RUNNING) {
    absl::StrAppend(&label, " ", JobPhaseName(progress.phase()));
  }
  if (progress.total_steps() > 0) {
    absl::StrAppend(&label, " step ", progress.step(), "/",
                    progress.total_steps());
  }
  if (progress.loss() > 0)
    absl::StrAppend(&label, absl::StrFormat(" loss %.4f", progress.loss()));
  // An ETA only while running; the last second reads "<1s", not "-".
  if (job.state() == v1::JOB_STATE_RUNNING && progress.has_eta()) {
    const bool under_a_second = progress.eta().seconds() <= 0;
    absl::StrAppend(&label, " ETA ", under_a_second ? "<1s" : FormatDuration(progress.eta()));
  }
  if (job.state() == v1::JOB_STATE_SUCCEEDED && job.training_seconds() > 0) {
    absl::StrAppend(&label, absl::StrFormat(" in %.1fs", job.training_seconds()));
  }
  if (job.cancel_requested()) absl::StrAppend(&label, " (cancel requested)");
  return label;
}

double JobFraction(const v1::Job& job) {
  if (job.state() == v1::JOB_STATE_SUCCEEDED) return 1.0;
  if (job.progress().fraction_done() > 0) return job.progress().fraction_done();
  if (job.progress().total_steps() > 0) {
    return static_cast<double>(job.progress().step()) /
           job.progress().total_steps();
  }
  return job.state() == v1::JOB_STATE_RUNNING ? 0.0 : -1.0;
}

}  // namespace stamina::cli
