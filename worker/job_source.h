// File: worker/job_source.h
//
// JobSource: where a training worker gets its work, the worker side of the
// internal WorkQueue protocol (stamina.internal.v1.WorkQueue). A worker slot
// leases the next job, renews the lease with heartbeats that carry progress,
// reads the job's inputs (base weights are local; parent adapter artifacts
// and training images come from the source), stores the adapter artifact and
// completes the job with exactly one new model version, or fails it.
//
// Every call after a lease is lost (expired and re-queued, or the job was
// deleted) is ABORTED: the worker must drop the work, and nothing it sends
// later is committed. Implementations: LocalJobSource (in-process, over the
// storage stores, for the embedded staminad); a gRPC client of WorkQueue for
// remote workers implements the same interface.
//
// Implementations are thread-safe: every worker slot calls concurrently.
#ifndef STAMINA_WORKER_JOB_SOURCE_H_
#define STAMINA_WORKER_JOB_SOURCE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "stamina/v1/job.pb.h"
#include "stamina/v1/model.pb.h"
#include "storage/records.h"

namespace stamina::worker {

// One adapter of the parent version's lineage, oldest first.
struct ParentAdapter {
  int64_t version = 0;
  std::string concept_id;
  std::string token;
  std::string adapter_digest;
};

struct TaskImage {
  std::string digest;
  std::string caption;  // may be empty; else contains "{}" for the token
};

// Everything one training job needs.
struct TrainingTask {
  std::string tenant_id;
  std::string model_id;
  std::string job_id;
  int32_t attempt = 0;
  std::string base_model_id;
  std::string base_model_digest;
  std::optional<int64_t> parent_version;  // nullopt: trains on the base
  std::vector<ParentAdapter> parent_adapters;
  std::string concept_id;
  std::string token;  // "<anna>"
  std::vector<std::string> caption_templates;  // each contains "{}"
  std::vector<TaskImage> images;
  v1::TrainingSettings settings;  // effective (defaults applied)
};

struct Lease {
  std::string lease_id;
  absl::Time expire_time;
  // Renew at least this often.
  absl::Duration heartbeat_interval;
  TrainingTask task;
};

struct HeartbeatReply {
  absl::Time expire_time;
  bool cancel_requested = false;
};

class JobSource {
 public:
  virtual ~JobSource() = default;

  // The next runnable job for `worker` (e.g. "host-1/slot-0"), or nullopt
  // when nothing is runnable now. Never blocks waiting for work.
  virtual absl::StatusOr<std::optional<Lease>> LeaseJob(
      const std::string& worker) = 0;

  // Renews the lease and records progress. ABORTED when the lease is lost.
  virtual absl::StatusOr<HeartbeatReply> Heartbeat(
      const std::string& lease_id, const storage::JobProgressRecord& progress) = 0;

  // The bytes of one of the leased task's inputs (a parent adapter artifact
  // or a training image). NOT_FOUND for a digest that is not an input.
  virtual absl::StatusOr<std::string> ReadInput(const std::string& lease_id,
                                                const std::string& digest) = 0;

  // Stores the adapter artifact; returns its SHA-256.
  virtual absl::StatusOr<std::string> StoreArtifact(const std::string& lease_id,
                                                    const std::string& bytes) = 0;

  // Commits the new version (the artifact must be stored) and ends the job
  // SUCCEEDED; returns the version number. CANCELLED when cancellation was
  // requested meanwhile (the job ends CANCELLED).
  virtual absl::StatusOr<int64_t> Complete(const std::string& lease_id,
                                           const std::string& adapter_digest,
                                           const v1::TrainingMetrics& metrics) = 0;

  // Ends the attempt: CANCELLED when `cancelled`; else re-queued when the
  // error is retryable and attempts remain, else FAILED. Returns the state.
  virtual absl::StatusOr<storage::JobState> Fail(const std::string& lease_id,
                                                 const storage::JobErrorRecord& error,
                                                 bool cancelled) = 0;
};

}  // namespace stamina::worker

#endif  // STAMINA_WORKER_JOB_SOURCE_H_
