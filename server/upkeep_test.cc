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

TEST(UpkeepTest, ForgetsIdempotencyKeysAfterTheRetention) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto registry, storage::TestRegistry::Create());
  STAMINA_ASSERT_OK(registry->AddTenant("t1"));
  auto create = [&](const std::string& id) {
    return registry->models().CreateModel({.tenant_id = "t1",
                                           .id = id,
                                           .base_model_id = storage::TestRegistry::kBaseModel,
                                           .request_id = "key-" + id,
                                           .request_sha256 = id});
  };
  STAMINA_ASSERT_OK(create("old").status());
  registry->clock().Advance(absl::Hours(24 * 7) + absl::Minutes(1));
  STAMINA_ASSERT_OK(create("new").status());
  STAMINA_ASSERT_OK_AND_ASSIGN(auto upkeep, Upkeep::Create({.jobs = &registry->jobs(),
                                                            .models = &registry->models(),
                                                            .clock = &registry->clock()}));
  upkeep->Stop();  // the first turn runs at once
  EXPECT_EQ(upkeep->counts().request_id_sweeps, 1);
  EXPECT_EQ(upkeep->counts().request_ids_forgotten, 1);
  // The forgotten key no longer replays: its model id is simply taken.
  EXPECT_THAT(create("old"), StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("models/old")));
  // The kept one still returns what it made.
  EXPECT_THAT(create("new"), IsOk());
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
