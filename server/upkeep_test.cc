#include "server/upkeep.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/testing/test_registry.h"

namespace stamina::server {
namespace {

using ::testing::HasSubstr;

TEST(UpkeepTest, ReturnsFreeMemoryOnItsSchedule) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto registry, storage::TestRegistry::Create());
  std::atomic<int> releases{0};
  absl::Notification third;
  STAMINA_ASSERT_OK_AND_ASSIGN(auto upkeep,
                               Upkeep::Create({.jobs = &registry->jobs(),
                                               .release_free_memory =
                                                   [&] {
                                                     if (++releases == 3) third.Notify();
                                                   },
                                               .memory_release_interval = absl::Milliseconds(1)}));
  third.WaitForNotification();
  upkeep->Stop();
  EXPECT_GE(upkeep->counts().memory_releases, 3);
  EXPECT_EQ(upkeep->counts().memory_releases, releases.load());
}

TEST(UpkeepTest, RefusesNonPositiveIntervals) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto registry, storage::TestRegistry::Create());
  EXPECT_THAT(
      Upkeep::Create({.jobs = &registry->jobs(), .memory_release_interval = absl::ZeroDuration()}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("intervals")));
  EXPECT_THAT(Upkeep::Create({}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("jobs")));
}

}  // namespace
}  // namespace stamina::server
