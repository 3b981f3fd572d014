// File: common/testing/fake_clock.h
//
// A Clock that moves only when a test says so. SleepFor() blocks until another
// thread advances the time past the sleeper's deadline, so code with timers
// (heartbeats, lease renewal, retry back-off) is driven step by step:
//
//   FakeClock clock(absl::FromUnixSeconds(1000));
//   std::thread heartbeat([&] { worker.RunHeartbeats(&clock); });
//   clock.AwaitSleepers(1);              // the loop is waiting for its tick
//   clock.Advance(absl::Seconds(10));    // ...and now it runs once
//
// This class is thread-safe.
#ifndef STAMINA_COMMON_TESTING_FAKE_CLOCK_H_
#define STAMINA_COMMON_TESTING_FAKE_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace stamina {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000));

  absl::Time Now() const override;
  void SleepFor(absl::Duration duration) override;

  // Moves the time forward (negative durations are ignored: time never runs
  // backwards) and wakes every sleeper whose deadline has passed.
  void Advance(absl::Duration duration);
  // Sets the time, if `time` is not earlier than Now().
  void SetTime(absl::Time time);

  // Blocks until at least `count` threads are inside SleepFor().
  void AwaitSleepers(int count);
  // The number of threads inside SleepFor() right now.
  int sleepers() const;

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  int sleepers_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace stamina

#endif  // STAMINA_COMMON_TESTING_FAKE_CLOCK_H_
