#include "storage/job_change_feed.h"

namespace stamina::storage {

uint64_t JobChangeFeed::version() const {
  absl::MutexLock lock(&mu_);
  return version_;
}

void JobChangeFeed::Notify() {
  absl::MutexLock lock(&mu_);
  ++version_;
}

uint64_t JobChangeFeed::WaitForChange(uint64_t seen, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return version_ != seen;
  };
  mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
  return version_;
}

template <typename T>
T NotifyingJobStore::Notified(T result) {
  // Any outcome may have changed a row: a lost lease (ABORTED) or a
  // cancellation found at commit (CANCELLED) record state too; a spurious
  // wake-up only costs a watcher one read.
  feed_->Notify();
  return result;
}

absl::StatusOr<JobRecord> NotifyingJobStore::Create(const NewJob& job) {
  return Notified(inner_->Create(job));
}

absl::StatusOr<std::optional<JobLease>> NotifyingJobStore::Claim(const std::string& worker,
                                                                 absl::Duration ttl) {
  // Idle workers poll often; only a lease changes what watchers see.
  absl::StatusOr<std::optional<JobLease>> lease = inner_->Claim(worker, ttl);
  if (lease.ok() && lease->has_value()) feed_->Notify();
  return lease;
}

absl::StatusOr<HeartbeatResult> NotifyingJobStore::Heartbeat(
    const std::string& lease_id, const JobProgressRecord& progress, absl::Duration ttl) {
  return Notified(inner_->Heartbeat(lease_id, progress, ttl));
}

absl::StatusOr<VersionRecord> NotifyingJobStore::Complete(const std::string& lease_id,
                                                          const CompletedTraining& result) {
  return Notified(inner_->Complete(lease_id, result));
}

absl::StatusOr<JobState> NotifyingJobStore::Fail(const std::string& lease_id,
                                                 const JobErrorRecord& error,
                                                 bool cancelled) {
  return Notified(inner_->Fail(lease_id, error, cancelled));
}

absl::StatusOr<JobRecord> NotifyingJobStore::Cancel(const std::string& tenant_id,
                                                    const std::string& model_id,
                                                    const std::string& job_id) {
  return Notified(inner_->Cancel(tenant_id, model_id, job_id));
}

absl::StatusOr<JobRecord> NotifyingJobStore::Retry(const std::string& tenant_id,
                                                   const std::string& model_id,
                                                   const std::string& job_id) {
  return Notified(inner_->Retry(tenant_id, model_id, job_id));
}

absl::StatusOr<int> NotifyingJobStore::RequeueExpiredLeases() {
  absl::StatusOr<int> touched = inner_->RequeueExpiredLeases();
  if (touched.ok() && *touched > 0) feed_->Notify();
  return touched;
}

}  // namespace stamina::storage
