// File: worker/local_job_source.h
//
// LocalJobSource: the in-process JobSource of the embedded staminad, over
// the same storage stores (and with the same semantics) as the front end's
// WorkQueue service (server/work_queue_service_impl.cc): a lease is a
// JobStore claim, ReadInput serves only the leased task's inputs, and every
// call checks the lease first, so a lost lease is ABORTED everywhere.
//
// Thread-safe (the stores are). The stores are borrowed and must outlive it.
#ifndef STAMINA_WORKER_LOCAL_JOB_SOURCE_H_
#define STAMINA_WORKER_LOCAL_JOB_SOURCE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/blob_store.h"
#include "storage/job_store.h"
#include "storage/lineage_store.h"
#include "storage/model_store.h"
#include "worker/job_source.h"

namespace stamina::worker {

class LocalJobSource final : public JobSource {
 public:
  struct Options {
    storage::JobStore* jobs = nullptr;
    storage::ModelStore* models = nullptr;
    storage::LineageStore* lineage = nullptr;
    storage::BlobStore* blobs = nullptr;
    absl::Duration lease_ttl = absl::Seconds(60);
    // Called after Complete() committed a version, with the job as leased
    // and the version; may be empty (the embedded staminad records training
    // seconds and queues the version's warm-up). Must return at once.
    std::function<void(const storage::JobRecord&, const storage::VersionRecord&)>
        on_succeeded;
  };

  // INVALID_ARGUMENT when a store is missing or the ttl is not positive.
  static absl::StatusOr<std::unique_ptr<LocalJobSource>> Create(Options options);

  absl::StatusOr<std::optional<Lease>> LeaseJob(const std::string& worker) override;
  absl::StatusOr<HeartbeatReply> Heartbeat(
      const std::string& lease_id,
      const storage::JobProgressRecord& progress) override;
  absl::StatusOr<std::string> ReadInput(const std::string& lease_id,
                                        const std::string& digest) override;
  absl::StatusOr<std::string> StoreArtifact(const std::string& lease_id,
                                            const std::string& bytes) override;
  absl::StatusOr<int64_t> Complete(const std::string& lease_id,
                                   const std::string& adapter_digest,
                                   const v1::TrainingMetrics& metrics) override;
  absl::StatusOr<storage::JobState> Fail(const std::string& lease_id,
                                         const storage::JobErrorRecord& error,
                                         bool cancelled) override;

  // The task a job record describes (also used by tests).
  absl::StatusOr<TrainingTask> TaskFor(const storage::JobRecord& job) const;

 private:
  explicit LocalJobSource(Options options) : options_(options) {}

  const Options options_;
};

}  // namespace stamina::worker

#endif  // STAMINA_WORKER_LOCAL_JOB_SOURCE_H_
