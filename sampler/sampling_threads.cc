#include "sampler/sampling_threads.h"

#include "absl/strings/str_cat.h"

namespace stamina::sampler {

struct SamplingThreads::Job {
  explicit Job(absl::FunctionRef<void()> fn) : run(fn) {}
  absl::FunctionRef<void()> run;
  bool done = false;  // guarded by the pool's mu_
};

absl::StatusOr<std::unique_ptr<SamplingThreads>> SamplingThreads::Create(
    int threads, std::function<void()> on_start) {
  if (threads < 1 || threads > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads: ", threads, " is out of range [1, 64]"));
  }
  std::unique_ptr<SamplingThreads> pool(new SamplingThreads());
  for (int i = 0; i < threads; ++i) {
    pool->threads_.emplace_back([p = pool.get(), on_start] {
      if (on_start) on_start();
      p->Loop();
    });
  }
  return pool;
}

SamplingThreads::~SamplingThreads() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& thread : threads_) thread.join();
}

void SamplingThreads::Run(absl::FunctionRef<void()> fn) {
  Job job(fn);
  absl::MutexLock lock(&mu_);
  queue_.push_back(&job);
  mu_.Await(absl::Condition(
      +[](Job* j) { return j->done; }, &job));
}

void SamplingThreads::Loop() {
  while (true) {
    Job* job = nullptr;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](SamplingThreads* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return s->stopping_ || !s->queue_.empty();  // called under mu_
          },
          this));
      // Queued jobs still run when stopping: their callers are waiting.
      if (queue_.empty()) return;
      job = queue_.front();
      queue_.pop_front();
    }
    job->run();
    absl::MutexLock lock(&mu_);
    job->done = true;
  }
}

}  // namespace stamina::sampler
