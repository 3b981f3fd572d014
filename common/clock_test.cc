#include "common/clock.h"

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "common/testing/fake_clock.h"
#include "gtest/gtest.h"

namespace stamina {
namespace {

TEST(RealClockTest, TracksWallTime) {
  const absl::Time before = absl::Now();
  const absl::Time now = Clock::Real()->Now();
  const absl::Time after = absl::Now();
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
  EXPECT_EQ(Clock::Real(), Clock::Real());
}

TEST(RealClockTest, NonPositiveSleepReturnsAtOnce) {
  Clock::Real()->SleepFor(absl::ZeroDuration());
  Clock::Real()->SleepFor(-absl::Hours(1));
}

TEST(FakeClockTest, MovesOnlyWhenTold) {
  FakeClock clock(absl::FromUnixSeconds(100));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(100));
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(105));
  clock.SetTime(absl::FromUnixSeconds(200));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(200));
}

TEST(FakeClockTest, NeverRunsBackwards) {
  FakeClock clock(absl::FromUnixSeconds(100));
  clock.Advance(-absl::Seconds(5));
  clock.SetTime(absl::FromUnixSeconds(50));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(100));
}

TEST(FakeClockTest, SleeperWakesOnlyAfterItsDeadline) {
  FakeClock clock(absl::FromUnixSeconds(0));
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    clock.SleepFor(absl::Seconds(10));
    woke = true;
  });
  clock.AwaitSleepers(1);
  clock.Advance(absl::Seconds(9));
  // Still asleep: the deadline is one second away. The sleeper is counted
  // until it leaves SleepFor, so this is not a race.
  EXPECT_EQ(clock.sleepers(), 1);
  EXPECT_FALSE(woke);
  clock.Advance(absl::Seconds(1));
  sleeper.join();
  EXPECT_TRUE(woke);
  EXPECT_EQ(clock.sleepers(), 0);
}

TEST(FakeClockTest, ZeroSleepDoesNotBlock) {
  FakeClock clock;
  clock.SleepFor(absl::ZeroDuration());
  EXPECT_EQ(clock.sleepers(), 0);
}

TEST(FakeClockTest, DrivesAPeriodicLoopTickByTick) {
  FakeClock clock(absl::FromUnixSeconds(0));
  std::atomic<int> ticks{0};
  std::thread loop([&] {
    for (int i = 0; i < 3; ++i) {
      clock.SleepFor(absl::Seconds(30));
      ++ticks;
    }
  });
  for (int expected = 1; expected <= 3; ++expected) {
    clock.AwaitSleepers(1);
    clock.Advance(absl::Seconds(30));
    // Wait for the tick to land before checking it: the loop either sleeps
    // again (counted) or has finished.
    while (ticks.load() < expected) std::this_thread::yield();
    EXPECT_EQ(ticks.load(), expected);
  }
  loop.join();
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(90));
}

}  // namespace
}  // namespace stamina
