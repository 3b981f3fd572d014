// File: worker/worker.h
//
// Worker: N slots that each loop lease → run → lease, pulling training jobs
// from a JobSource and running them with a JobExecutor (the same code in the
// embedded staminad, with LocalJobSource, and in a remote worker, with a
// WorkQueue client). A slot with nothing to do waits poll_interval (or until
// Wake()/Stop()). Stop() tells running jobs to hand their work back to the
// queue and joins the slots; a job whose worker dies without Stop() comes
// back when its lease expires.
//
//   STAMINA_ASSIGN_OR_RETURN(auto worker, Worker::Create({.source = source.get(),
//       .executor = executor.get(), .slots = 2, .name = "staminad"}));
//   worker->Start();
//   ...
//   worker->Stop();
//
// Thread-safe. The source and executor are borrowed and must outlive it.
#ifndef STAMINA_WORKER_WORKER_H_
#define STAMINA_WORKER_WORKER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "worker/job_executor.h"
#include "worker/job_source.h"

namespace stamina::worker {

class Worker {
 public:
  struct Options {
    JobSource* source = nullptr;
    JobExecutor* executor = nullptr;
    int slots = 1;
    // Slot i leases as "<name>/<i>".
    std::string name = "worker";
    absl::Duration poll_interval = absl::Milliseconds(500);
    // One line per notable event; may be null.
    std::function<void(const std::string&)> log;
  };

  // INVALID_ARGUMENT for a missing source or executor, slots < 1 or an
  // empty name.
  static absl::StatusOr<std::unique_ptr<Worker>> Create(Options options);
  ~Worker();

  // Starts the slots' threads (once).
  void Start();
  // Asks running jobs to stop (they are re-queued), stops the slots and
  // joins them. Idempotent.
  void Stop();
  // Makes idle slots look for work now (e.g. right after a job was queued).
  void Wake();

  // Leases and runs at most one job on `slot`, synchronously, on the calling
  // thread: false when nothing was runnable. `outcome` (optional) receives
  // the executor's result. Errors are the source's LeaseJob errors.
  absl::StatusOr<bool> RunOnce(int slot, absl::StatusOr<int64_t>* outcome = nullptr);

  // Jobs run to an end since creation, on all slots.
  int jobs_run() const { return jobs_run_.load(); }

 private:
  explicit Worker(Options options) : options_(std::move(options)) {}
  void SlotLoop(int slot);
  void Log(const std::string& line) const;

  const Options options_;
  std::atomic<bool> shutdown_{false};
  std::atomic<int> jobs_run_{0};
  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  int64_t wake_generation_ ABSL_GUARDED_BY(mu_) = 0;
  absl::CondVar wake_;
  std::vector<std::thread> threads_;  // written by Start, joined by Stop
};

}  // namespace stamina::worker

#endif  // STAMINA_WORKER_WORKER_H_
