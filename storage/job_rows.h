// File: storage/job_rows.h
//
// SQL helpers shared by the SQLite stores for jobs: the column list that
// ReadJobRow() understands, lookups by resource id and by lease, and the
// concept-state side effects of job moves. Internal to storage/.
// Not thread-safe; callers run inside a RegistryDatabase transaction.
#ifndef STAMINA_STORAGE_JOB_ROWS_H_
#define STAMINA_STORAGE_JOB_ROWS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "storage/database.h"
#include "storage/records.h"

namespace stamina::storage {

// SELECT list + FROM clause over `jobs j` joined to its model and concept; add
// a WHERE clause. ReadJobRow() reads a row of it.
extern const char kJobSelect[];

// A job row plus the internal keys the stores need.
struct JobRow {
  int64_t pk = 0;
  int64_t model_pk = 0;
  int64_t concept_pk = 0;
  std::string lease_id;
  int64_t lease_expiry_us = 0;
  JobRecord record;
};

JobRow ReadJobRow(const Statement& row);

// NOT_FOUND "models/{m}/jobs/{j}" unless the tenant owns it.
absl::StatusOr<JobRow> FindJob(Database& db, const std::string& tenant_id,
                               const std::string& model_id,
                               const std::string& job_id);

// The RUNNING job holding `lease_id` with an unexpired lease at `now_us`, or
// ABORTED ("lease lost").
absl::StatusOr<JobRow> FindLeasedJob(Database& db, const std::string& lease_id,
                                     int64_t now_us);

// Sets the state at `now_us` (the end time too when it is terminal or FAILED),
// clearing lease and phase unless the new state is RUNNING, and records the
// change in the webhook outbox when the job has a URL.
absl::Status UpdateJobState(Database& db, int64_t job_pk, JobState state, int64_t now_us);

absl::Status SetConceptState(Database& db, int64_t concept_pk,
                             ConceptState state);

// "models/{model}/jobs/{job}".
std::string JobName(const JobRecord& job);

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_JOB_ROWS_H_
