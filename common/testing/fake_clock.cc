#include "common/testing/fake_clock.h"

namespace stamina {

FakeClock::FakeClock(absl::Time start) : now_(start) {}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void FakeClock::SleepFor(absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  if (duration <= absl::ZeroDuration()) return;
  const absl::Time deadline = now_ + duration;
  ++sleepers_;
  struct Reached {
    const absl::Time* now;
    absl::Time deadline;
    bool Done() const { return *now >= deadline; }
  } reached{&now_, deadline};
  mu_.Await(absl::Condition(&reached, &Reached::Done));
  --sleepers_;
}

void FakeClock::Advance(absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  if (duration > absl::ZeroDuration()) now_ += duration;
}

void FakeClock::SetTime(absl::Time time) {
  absl::MutexLock lock(&mu_);
  if (time > now_) now_ = time;
}

void FakeClock::AwaitSleepers(int count) {
  absl::MutexLock lock(&mu_);
  struct Enough {
    const int* sleepers;
    int count;
    bool Done() const { return *sleepers >= count; }
  } enough{&sleepers_, count};
  mu_.Await(absl::Condition(&enough, &Enough::Done));
}

int FakeClock::sleepers() const {
  absl::MutexLock lock(&mu_);
  return sleepers_;
}

}  // namespace stamina
