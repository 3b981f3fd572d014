// File: server/upkeep.h
//
// Upkeep: the front end's background chores, on a thread of their own so
// that they happen whether or not any worker or client calls: expired job
// leases go back to the queue (a worker that died mid-job shows RUNNING only
// until its lease runs out, even when no worker polls), and the blob sweep
// deletes stored bytes no row references (storage/blob_gc.h), on a
// schedule, and free heap memory is handed back to the OS on a schedule (the
// allocator keeps freed pages otherwise: under a long mixed load staminad's
// resident memory crept up while its live heap stayed flat), and idempotency
// keys older than a week are forgotten (the table grew with every create
// that carried one). Each chore's
// failure is logged and retried at its next turn.
//
// Thread-safe. Stop() (also run by the destructor) ends the thread; the
// borrowed stores must outlive it.
#ifndef STAMINA_SERVER_UPKEEP_H_
#define STAMINA_SERVER_UPKEEP_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "storage/blob_gc.h"
#include "storage/job_store.h"
#include "storage/model_store.h"

namespace stamina::server {

class Upkeep {
 public:
  struct Options {
    storage::JobStore* jobs = nullptr;                // not owned
    storage::BlobCollector* blob_collector = nullptr;  // not owned; null: no sweep
    // Forgets idempotency keys older than request_id_retention, every
    // request_id_sweep_interval; null: never.
    storage::ModelStore* models = nullptr;  // not owned
    absl::Duration request_id_retention = absl::Hours(24 * 7);
    absl::Duration request_id_sweep_interval = absl::Hours(1);
    Clock* clock = Clock::Real();  // the registry's time, for the retention
    absl::Duration lease_check_interval = absl::Seconds(5);
    absl::Duration blob_sweep_interval = absl::Hours(1);
    // Returns free heap pages to the OS (staminad: ReleaseFreeMemory);
    // null: never.
    std::function<void()> release_free_memory;
    absl::Duration memory_release_interval = absl::Seconds(30);
    // One line per chore that did something or failed; may be empty.
    std::function<void(const std::string&)> log;
  };

  // INVALID_ARGUMENT for a missing job store or non-positive intervals.
  static absl::StatusOr<std::unique_ptr<Upkeep>> Create(Options options);
  ~Upkeep();

  void Stop();

  // Chores done so far (tests wait on these).
  struct Counts {
    int64_t lease_checks = 0;
    int64_t leases_requeued = 0;
    int64_t sweeps = 0;
    int64_t blobs_deleted = 0;
    int64_t memory_releases = 0;
    int64_t request_id_sweeps = 0;
    int64_t request_ids_forgotten = 0;
  };
  Counts counts() const;

 private:
  explicit Upkeep(Options options) : options_(std::move(options)) {}
  void Run();

  const Options options_;
  absl::Notification stop_;
  mutable absl::Mutex mu_;
  Counts counts_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_UPKEEP_H_
