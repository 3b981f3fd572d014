// File: sampler/sampling_threads.h
//
// SamplingThreads: a fixed set of threads that run the sampler's torch work,
// one job each at a time, so that the number of threads driving LibTorch
// stays the number of sampler slots however many gRPC handler threads carry
// Sample calls. Each thread that enters an OpenMP parallel region becomes the
// master of a team of its own (libgomp keeps one per master, and idle team
// threads spin before they sleep): run on the handler threads, 8 clients
// meant 8 teams on a 2-core machine.
//
// Thread-safe. The destructor waits for running jobs and joins the threads;
// Run() must not be called during or after it.
#ifndef STAMINA_SAMPLER_SAMPLING_THREADS_H_
#define STAMINA_SAMPLER_SAMPLING_THREADS_H_

#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace stamina::sampler {

class SamplingThreads {
 public:
  // INVALID_ARGUMENT unless 1 <= threads <= 64. `on_start` (may be null)
  // runs first on each new thread, e.g. to set its torch thread count.
  static absl::StatusOr<std::unique_ptr<SamplingThreads>> Create(
      int threads, std::function<void()> on_start = nullptr);
  ~SamplingThreads();

  // Runs `job` on one of the threads and returns when it has finished. Jobs
  // beyond the thread count wait in FIFO order (the sampler's admission
  // normally keeps them within it).
  void Run(absl::FunctionRef<void()> job);

  int size() const { return static_cast<int>(threads_.size()); }

 private:
  struct Job;
  SamplingThreads() = default;
  void Loop();

  absl::Mutex mu_;
  std::deque<Job*> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace stamina::sampler

#endif  // STAMINA_SAMPLER_SAMPLING_THREADS_H_
