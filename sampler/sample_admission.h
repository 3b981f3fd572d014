// File: sampler/sample_admission.h
//
// SampleAdmission: which Sample requests run now. Sampling is bounded by
// `slots` (requests running at once; the process's torch threads are shared
// by them, so one slot uses every core and several never oversubscribe
// them) and by a working-memory budget (each request reserves its estimate,
// core/pipelines/sampling_memory.h). Requests that cannot start wait in one
// FIFO queue per tenant, and tenants are served round-robin, so one tenant's
// burst delays the others by at most one request each. A request is refused
// with RESOURCE_EXHAUSTED ("sampler busy", with a retry hint from the
// measured run times) when the queue, or its tenant's share of it, is full,
// and when its estimate could never fit the budget. A waiting request whose
// caller goes away leaves the queue (CANCELLED) within `cancel_poll`.
//
// Thread-safe. Grants release their slot and memory when destroyed.
#ifndef STAMINA_SAMPLER_SAMPLE_ADMISSION_H_
#define STAMINA_SAMPLER_SAMPLE_ADMISSION_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace stamina::sampler {

class SampleAdmission {
 public:
  struct Options {
    int slots = 1;
    int64_t memory_budget_bytes = int64_t{2} << 30;
    // Requests waiting, in all and per tenant, before new ones are refused.
    int max_waiting = 32;
    int max_waiting_per_tenant = 8;
    // How often a waiting request asks whether its caller is still there.
    absl::Duration cancel_poll = absl::Milliseconds(50);
    Clock* clock = Clock::Real();  // not owned; run times for the retry hint
  };

  // INVALID_ARGUMENT for non-positive slots, budget or queue sizes.
  static absl::StatusOr<std::unique_ptr<SampleAdmission>> Create(Options options);

  // A running request's slot and memory, given back on destruction.
  class Grant {
   public:
    Grant() = default;
    Grant(Grant&& other) noexcept;
    Grant& operator=(Grant&& other) noexcept;
    ~Grant();

   private:
    friend class SampleAdmission;
    Grant(SampleAdmission* owner, int64_t bytes, absl::Time start)
        : owner_(owner), bytes_(bytes), start_(start) {}
    SampleAdmission* owner_ = nullptr;
    int64_t bytes_ = 0;
    absl::Time start_;
  };

  // Called while waiting with the number of requests ahead (of every tenant).
  using QueuedFn = std::function<void(int ahead)>;

  // Blocks until `tenant`'s request of `bytes` may run. RESOURCE_EXHAUSTED
  // when the queue is full or `bytes` exceeds the budget; CANCELLED when
  // `cancelled` turns true while waiting.
  absl::StatusOr<Grant> Admit(const std::string& tenant, int64_t bytes,
                              const std::function<bool()>& cancelled,
                              const QueuedFn& queued = nullptr);

  struct Stats {
    int running = 0;
    int waiting = 0;
    int64_t bytes_in_use = 0;
    int64_t admitted = 0;
    int64_t refused_busy = 0;
    int64_t cancelled_waiting = 0;
  };
  Stats stats() const;

  int64_t memory_budget_bytes() const { return options_.memory_budget_bytes; }

 private:
  struct Waiter {
    std::string tenant;
    int64_t bytes = 0;
    bool granted = false;
  };

  explicit SampleAdmission(Options options) : options_(options) {}

  // Grants queued requests, round-robin over tenants, while the next one
  // fits (never skipping it, so a large request is not starved by small).
  void GrantWaiting() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Fits(int64_t bytes) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Remove(Waiter* waiter) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Release(int64_t bytes, absl::Time start);
  int Ahead(const Waiter* waiter) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Duration RetryHint() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  std::map<std::string, std::deque<Waiter*>> queues_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> turns_ ABSL_GUARDED_BY(mu_);  // tenants with waiters
  Stats stats_ ABSL_GUARDED_BY(mu_);
  // Exponential moving average of run times; zero until one finished.
  absl::Duration average_run_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
};

}  // namespace stamina::sampler

#endif  // STAMINA_SAMPLER_SAMPLE_ADMISSION_H_
