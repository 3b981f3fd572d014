#include "common/clock.h"

#include "absl/time/clock.h"

namespace stamina {
namespace {

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  void SleepFor(absl::Duration duration) override {
    if (duration > absl::ZeroDuration()) absl::SleepFor(duration);
  }
};

}  // namespace

Clock* Clock::Real() {
  // Leaked on purpose: a function-local static with a trivial lifetime story.
  static Clock* const clock = new RealClock();
  return clock;
}

}  // namespace stamina
