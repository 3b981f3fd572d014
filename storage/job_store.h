// File: storage/job_store.h
//
// JobStore: the durable training-job queue. Jobs of one user model run
// strictly one at a time, in creation order; across tenants the next job is
// chosen round-robin (the tenant served longest ago first). A worker claims a
// job and holds a lease it must renew; a lease that expires re-queues the job
// and every later call with it is ABORTED, so a lost worker's late results are
// never committed. Completion creates exactly one model version, atomically
// with the job's success. Every state change of a job with a webhook URL
// writes its event to the webhook outbox in the same transaction
// (webhook_rows.h). The state machine is in job_state.h.
//
// Implementations are thread-safe.
#ifndef STAMINA_STORAGE_JOB_STORE_H_
#define STAMINA_STORAGE_JOB_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/records.h"

namespace stamina::storage {

struct NewJob {
  std::string tenant_id;
  std::string model_id;
  std::string concept_id;
  std::string settings;  // opaque
  // Idempotency key (may be empty) and a fingerprint of the request's content:
  // the same key with the same fingerprint returns the original job; with a
  // different fingerprint, ALREADY_EXISTS.
  std::string request_id;
  std::string request_fingerprint;
  // Where state changes are POSTed; "" = the model's webhook URL, if any.
  std::string webhook_url;
};

struct JobLease {
  std::string lease_id;
  absl::Time expire_time;
  JobRecord job;
};

struct HeartbeatResult {
  absl::Time expire_time;
  bool cancel_requested = false;
};

// What a worker hands back on success.
struct CompletedTraining {
  std::string adapter_digest;
  int64_t adapter_size_bytes = 0;
  std::string settings;  // effective settings (opaque)
  std::string metrics;   // opaque
};

struct ListJobsQuery {
  std::string tenant_id;
  std::string model_id;  // empty: all the tenant's models
  std::vector<JobState> states;  // empty: all
  int page_size = 50;
  std::string page_token;
};

struct JobPage {
  std::vector<JobRecord> jobs;  // newest first
  std::string next_page_token;
};

// Jobs per state, over all tenants (the autoscaling signal).
struct JobCounts {
  int64_t queued = 0;
  int64_t running = 0;
  int64_t failed = 0;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // Queues a job for a DRAFT concept and moves the concept to TRAINING.
  // NOT_FOUND (model, concept), FAILED_PRECONDITION (concept not DRAFT or
  // with too few images), ALREADY_EXISTS (request_id reused differently),
  // RESOURCE_EXHAUSTED (tenant's open-job limit).
  virtual absl::StatusOr<JobRecord> Create(const NewJob& job) = 0;

  virtual absl::StatusOr<JobRecord> Get(const std::string& tenant_id,
                                        const std::string& model_id,
                                        const std::string& job_id) = 0;

  // INVALID_ARGUMENT for a bad page token or size.
  virtual absl::StatusOr<JobPage> List(const ListJobsQuery& query) = 0;

  // Leases the next runnable job to `worker` for `ttl`, first re-queueing
  // expired leases. nullopt when nothing is runnable.
  virtual absl::StatusOr<std::optional<JobLease>> Claim(
      const std::string& worker, absl::Duration ttl) = 0;

  // The job a live lease is for; ABORTED when the lease is lost.
  virtual absl::StatusOr<JobRecord> GetLeased(const std::string& lease_id) = 0;

  // Renews the lease for `ttl` and records progress. ABORTED when the lease
  // is lost.
  virtual absl::StatusOr<HeartbeatResult> Heartbeat(
      const std::string& lease_id, const JobProgressRecord& progress,
      absl::Duration ttl) = 0;

  // Commits the new version and ends the job SUCCEEDED. ABORTED when the
  // lease is lost; CANCELLED (after recording the job CANCELLED) when
  // cancellation was requested.
  virtual absl::StatusOr<VersionRecord> Complete(
      const std::string& lease_id, const CompletedTraining& result) = 0;

  // Ends the attempt: CANCELLED when `cancelled`; otherwise QUEUED again for
  // a retryable error with attempts left, else FAILED. Returns the new state.
  // ABORTED when the lease is lost.
  virtual absl::StatusOr<JobState> Fail(const std::string& lease_id,
                                        const JobErrorRecord& error,
                                        bool cancelled) = 0;

  // QUEUED or FAILED → CANCELLED; RUNNING → cancel requested (the worker
  // stops); FAILED_PRECONDITION when terminal or committing.
  virtual absl::StatusOr<JobRecord> Cancel(const std::string& tenant_id,
                                           const std::string& model_id,
                                           const std::string& job_id) = 0;

  // FAILED → QUEUED; FAILED_PRECONDITION otherwise.
  virtual absl::StatusOr<JobRecord> Retry(const std::string& tenant_id,
                                          const std::string& model_id,
                                          const std::string& job_id) = 0;

  // Re-queues every RUNNING job whose lease expired (or fails it after too
  // many attempts). Returns how many jobs it touched.
  virtual absl::StatusOr<int> RequeueExpiredLeases() = 0;

  virtual absl::StatusOr<JobCounts> Count() = 0;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_JOB_STORE_H_
