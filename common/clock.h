// File: common/clock.h
//
// Time as an injected dependency (Buildbarn's clock.Clock), so that leases,
// ETAs, retries and timeouts are tested with a FakeClock instead of sleeps.
//
//   class LeaseManager {
//    public:
//     explicit LeaseManager(Clock* clock);  // not owned; outlives the manager
//     ...
//     bool Expired(absl::Time expiry) const { return clock_->Now() >= expiry; }
//   };
//
// Production code takes a `Clock*` and receives Clock::Real().
#ifndef STAMINA_COMMON_CLOCK_H_
#define STAMINA_COMMON_CLOCK_H_

#include "absl/time/time.h"

namespace stamina {

// The source of the current time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;

  // The current time.
  virtual absl::Time Now() const = 0;

  // Blocks the calling thread until Now() has advanced by at least `duration`.
  // Non-positive durations return at once.
  virtual void SleepFor(absl::Duration duration) = 0;

  // The process-wide wall clock. Never null; never destroyed.
  static Clock* Real();
};

}  // namespace stamina

#endif  // STAMINA_COMMON_CLOCK_H_
