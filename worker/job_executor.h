// File: worker/job_executor.h
//
// JobExecutor: what a worker slot does with one lease. The executor owns the
// job from lease to end: it heartbeats (renewing the lease, reporting
// progress, learning of cancellation), and ends the job through the source
// (Complete or Fail) — except when the lease is lost, where it drops the work
// without another call.
//
// Threading contract: one job per slot at a time; a slot never re-enters its
// executor. Implementations are thread-safe across slots.
#ifndef STAMINA_WORKER_JOB_EXECUTOR_H_
#define STAMINA_WORKER_JOB_EXECUTOR_H_

#include <atomic>
#include <cstdint>

#include "absl/status/statusor.h"
#include "worker/job_source.h"

namespace stamina::worker {

class JobExecutor {
 public:
  virtual ~JobExecutor() = default;

  // Runs `lease`'s job. Returns the new version on success; CANCELLED when
  // the user cancelled it; ABORTED when the lease was lost (nothing was
  // committed); UNAVAILABLE when `shutdown` became true (the job was handed
  // back to the queue); otherwise the error the job ended with (recorded
  // through JobSource::Fail).
  virtual absl::StatusOr<int64_t> Run(JobSource& source, const Lease& lease,
                                      const std::atomic<bool>& shutdown) = 0;
};

}  // namespace stamina::worker

#endif  // STAMINA_WORKER_JOB_EXECUTOR_H_
