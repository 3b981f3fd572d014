#include "worker/worker.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"

namespace stamina::worker {

absl::StatusOr<std::unique_ptr<Worker>> Worker::Create(Options options) {
  if (options.source == nullptr) return absl::InvalidArgumentError("source: required");
  if (options.executor == nullptr) {
    return absl::InvalidArgumentError("executor: required");
  }
  if (options.slots < 1) return absl::InvalidArgumentError("slots: must be >= 1");
  if (options.name.empty()) return absl::InvalidArgumentError("name: required");
  return std::unique_ptr<Worker>(new Worker(std::move(options)));
}

Worker::~Worker() { Stop(); }

void Worker::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || shutdown_.load()) return;
  started_ = true;
  for (int slot = 0; slot < options_.slots; ++slot) {
    threads_.emplace_back([this, slot] { SlotLoop(slot); });
  }
}

void Worker::Stop() {
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
    ++wake_generation_;
    wake_.SignalAll();
  }
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void Worker::Wake() {
  absl::MutexLock lock(&mu_);
  ++wake_generation_;
  wake_.SignalAll();
}

void Worker::Log(const std::string& line) const {
  if (options_.log) options_.log(absl::StrCat(options_.name, ": ", line));
}

absl::StatusOr<bool> Worker::RunOnce(int slot, absl::StatusOr<int64_t>* outcome) {
  if (shutdown_.load()) return false;  // never lease a job only to hand it back
  absl::StatusOr<std::optional<Lease>> lease =
      options_.source->LeaseJob(absl::StrCat(options_.name, "/", slot));
  if (!lease.ok()) return lease.status();
  if (!lease->has_value()) return false;
  absl::StatusOr<int64_t> result =
      options_.executor->Run(*options_.source, **lease, shutdown_);
  ++jobs_run_;
  if (outcome != nullptr) *outcome = std::move(result);
  return true;
}

void Worker::SlotLoop(int slot) {
  while (!shutdown_.load()) {
    int64_t generation;
    {
      absl::MutexLock lock(&mu_);
      generation = wake_generation_;
    }
    absl::StatusOr<bool> ran = RunOnce(slot);
    if (!ran.ok()) Log(absl::StrCat("slot ", slot, ": ", ran.status().ToString()));
    if (ran.ok() && *ran) continue;  // maybe more work: look again at once
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = absl::Now() + options_.poll_interval;
    while (wake_generation_ == generation && absl::Now() < deadline) {
      wake_.WaitWithDeadline(&mu_, deadline);
    }
  }
}

}  // namespace stamina::worker
