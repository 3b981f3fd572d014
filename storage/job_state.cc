#include "storage/job_state.h"

#include "absl/strings/str_cat.h"

namespace stamina::storage {

absl::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "QUEUED";
    case JobState::kRunning:
      return "RUNNING";
    case JobState::kSucceeded:
      return "SUCCEEDED";
    case JobState::kFailed:
      return "FAILED";
    case JobState::kCancelled:
      return "CANCELLED";
  }
  return "UNKNOWN";
}

bool IsTerminal(JobState state) {
  return state == JobState::kSucceeded || state == JobState::kCancelled;
}

bool IsLegalJobTransition(JobState from, JobState to) {
  switch (from) {
    case JobState::kQueued:
      return to == JobState::kRunning || to == JobState::kCancelled;
    case JobState::kRunning:
      return to == JobState::kSucceeded || to == JobState::kFailed ||
             to == JobState::kCancelled || to == JobState::kQueued;
    case JobState::kFailed:
      return to == JobState::kQueued || to == JobState::kCancelled;
    case JobState::kSucceeded:
    case JobState::kCancelled:
      return false;
  }
  return false;
}

absl::Status CheckJobTransition(absl::string_view job_id, JobState from,
                                JobState to) {
  if (IsLegalJobTransition(from, to)) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("job ", job_id, " is ", JobStateName(from), "; it cannot become ",
                   JobStateName(to)));
}

}  // namespace stamina::storage
