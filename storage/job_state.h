// File: storage/job_state.h
//
// The job state machine, in one table that the stores consult before every
// move (docs/api.md "Job"):
//
//   QUEUED ──claim──► RUNNING ──complete──► SUCCEEDED
//     │                 ├──fail──────────► FAILED ──retry──► QUEUED
//     │                 ├──cancelled─────► CANCELLED
//     │                 └──lease lost────► QUEUED (attempt + 1 at next claim)
//     └──cancel────────────────────────► CANCELLED       FAILED ──cancel──► CANCELLED
//
// SUCCEEDED and CANCELLED are terminal. Thread-safe: pure functions.
#ifndef STAMINA_STORAGE_JOB_STATE_H_
#define STAMINA_STORAGE_JOB_STATE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "storage/records.h"

namespace stamina::storage {

// "QUEUED", "RUNNING", ...
absl::string_view JobStateName(JobState state);

bool IsTerminal(JobState state);

// Whether the state machine allows `from` → `to`.
bool IsLegalJobTransition(JobState from, JobState to);

// OK, or FAILED_PRECONDITION naming the job and both states.
absl::Status CheckJobTransition(absl::string_view job_id, JobState from,
                                JobState to);

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_JOB_STATE_H_
