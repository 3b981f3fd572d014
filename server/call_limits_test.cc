#include "server/call_limits.h"

#include <vector>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::server {
namespace {

using ::testing::HasSubstr;

TEST(CallLimitsTest, PerTenantCapRefusesAndRecovers) {
  CallLimits limits({.upload = {.per_tenant = 2, .total = 10}});
  std::vector<CallLimits::Slot> open;
  for (int i = 0; i < 2; ++i) {
    STAMINA_ASSERT_OK_AND_ASSIGN(CallLimits::Slot slot,
                                 limits.Acquire(LongCall::kUpload, "acme"));
    open.push_back(std::move(slot));
  }
  EXPECT_THAT(limits.Acquire(LongCall::kUpload, "acme"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("UploadImages calls: this tenant has 2 open")));
  EXPECT_THAT(limits.Acquire(LongCall::kUpload, "other"), IsOk());  // its own share
  EXPECT_THAT(limits.Acquire(LongCall::kWatch, "acme"), IsOk());    // another kind
  EXPECT_EQ(limits.Open(LongCall::kUpload, "acme"), 2);

  open.pop_back();  // one call ended
  EXPECT_EQ(limits.Open(LongCall::kUpload, "acme"), 1);
  EXPECT_THAT(limits.Acquire(LongCall::kUpload, "acme"), IsOk());
}

TEST(CallLimitsTest, ProcessCapCountsEveryTenant) {
  CallLimits limits({.watch = {.per_tenant = 5, .total = 3}});
  std::vector<CallLimits::Slot> open;
  for (const char* tenant : {"a", "b", "c"}) {
    STAMINA_ASSERT_OK_AND_ASSIGN(CallLimits::Slot slot,
                                 limits.Acquire(LongCall::kWatch, tenant));
    open.push_back(std::move(slot));
  }
  EXPECT_THAT(limits.Acquire(LongCall::kWatch, "d"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("WatchJob calls on this server (3 of 3)")));
  EXPECT_EQ(limits.Open(LongCall::kWatch, "d"), 0);
  open.clear();
  EXPECT_EQ(limits.Open(LongCall::kWatch), 0);
  EXPECT_THAT(limits.Acquire(LongCall::kWatch, "d"), IsOk());
}

TEST(CallLimitsTest, ZeroMeansNoCapAndMovedSlotsReleaseOnce) {
  CallLimits limits({.sample = {.per_tenant = 0, .total = 0}});
  std::vector<CallLimits::Slot> open;
  for (int i = 0; i < 100; ++i) {
    STAMINA_ASSERT_OK_AND_ASSIGN(CallLimits::Slot slot,
                                 limits.Acquire(LongCall::kSample, "a"));
    open.push_back(std::move(slot));
  }
  EXPECT_EQ(limits.Open(LongCall::kSample), 100);
  CallLimits::Slot moved = std::move(open.front());
  open.clear();
  EXPECT_EQ(limits.Open(LongCall::kSample), 1);
}

}  // namespace
}  // namespace stamina::server
