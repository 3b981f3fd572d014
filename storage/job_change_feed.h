// File: storage/job_change_feed.h
//
// JobChangeFeed: a counter bumped whenever any job changes, with a wait for
// the next bump, so that watchers (WatchJob streams) wake on a change
// instead of polling the registry. NotifyingJobStore is the JobStore
// decorator that bumps it after every successful write (create, claim,
// heartbeat, complete, fail, cancel, retry, lease expiry), whoever the
// writer is: a handler, an in-process worker slot or the WorkQueue of remote
// workers. Changes are not per job: a watcher re-reads its job and sends
// only what changed. The registry has one writer process (staminad), so
// every change passes through here.
//
// Thread-safe. NotifyingJobStore borrows the inner store and the feed.
#ifndef STAMINA_STORAGE_JOB_CHANGE_FEED_H_
#define STAMINA_STORAGE_JOB_CHANGE_FEED_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/job_store.h"

namespace stamina::storage {

class JobChangeFeed {
 public:
  // The number of changes so far.
  uint64_t version() const;
  void Notify();
  // Returns when version() differs from `seen` or after `timeout`; the
  // version then.
  uint64_t WaitForChange(uint64_t seen, absl::Duration timeout) const;

 private:
  mutable absl::Mutex mu_;
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
};

class NotifyingJobStore final : public JobStore {
 public:
  NotifyingJobStore(JobStore* inner, JobChangeFeed* feed) : inner_(inner), feed_(feed) {}

  absl::StatusOr<JobRecord> Create(const NewJob& job) override;
  absl::StatusOr<JobRecord> Get(const std::string& tenant_id, const std::string& model_id,
                                const std::string& job_id) override {
    return inner_->Get(tenant_id, model_id, job_id);
  }
  absl::StatusOr<JobPage> List(const ListJobsQuery& query) override {
    return inner_->List(query);
  }
  absl::StatusOr<std::optional<JobLease>> Claim(const std::string& worker,
                                                absl::Duration ttl) override;
  absl::StatusOr<JobRecord> GetLeased(const std::string& lease_id) override {
    return inner_->GetLeased(lease_id);
  }
  absl::StatusOr<HeartbeatResult> Heartbeat(const std::string& lease_id,
                                            const JobProgressRecord& progress,
                                            absl::Duration ttl) override;
  absl::StatusOr<VersionRecord> Complete(const std::string& lease_id,
                                         const CompletedTraining& result) override;
  absl::StatusOr<JobState> Fail(const std::string& lease_id, const JobErrorRecord& error,
                                bool cancelled) override;
  absl::StatusOr<JobRecord> Cancel(const std::string& tenant_id,
                                   const std::string& model_id,
                                   const std::string& job_id) override;
  absl::StatusOr<JobRecord> Retry(const std::string& tenant_id,
                                  const std::string& model_id,
                                  const std::string& job_id) override;
  absl::StatusOr<int> RequeueExpiredLeases() override;
  absl::StatusOr<JobCounts> Count() override { return inner_->Count(); }

 private:
  // Passes `result` through, notifying on success (and on CANCELLED from
  // Complete, which records the job CANCELLED).
  template <typename T>
  T Notified(T result);

  JobStore* const inner_;
  JobChangeFeed* const feed_;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_JOB_CHANGE_FEED_H_
