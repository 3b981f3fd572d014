#include "server/blob_grants.h"

#include "common/testing/fake_clock.h"
#include "gtest/gtest.h"

namespace stamina::server {
namespace {

TEST(BlobGrantsTest, OnlyWhatWasSentToThatReplicaForAWhile) {
  FakeClock clock;
  BlobGrants grants({.ttl = absl::Minutes(10), .max_per_replica = 8, .clock = &clock});
  EXPECT_FALSE(grants.IsGranted("r0", "a"));
  grants.Grant("r0", {"a", "b"});
  EXPECT_TRUE(grants.IsGranted("r0", "a"));
  EXPECT_TRUE(grants.IsGranted("r0", "b"));
  EXPECT_FALSE(grants.IsGranted("r1", "a"));  // another replica
  EXPECT_FALSE(grants.IsGranted("r0", "c"));
  clock.Advance(absl::Minutes(6));
  grants.Grant("r0", {"a"});  // renewed
  clock.Advance(absl::Minutes(6));
  EXPECT_TRUE(grants.IsGranted("r0", "a"));
  EXPECT_FALSE(grants.IsGranted("r0", "b"));  // expired
}

TEST(BlobGrantsTest, KeepsTheMostRecentlyGrantedWithinItsBound) {
  FakeClock clock;
  BlobGrants grants({.max_per_replica = 2, .clock = &clock});
  grants.Grant("r0", {"a", "b"});
  grants.Grant("r0", {"a"});  // a is now the most recent
  grants.Grant("r0", {"c"});
  EXPECT_TRUE(grants.IsGranted("r0", "a"));
  EXPECT_FALSE(grants.IsGranted("r0", "b"));
  EXPECT_TRUE(grants.IsGranted("r0", "c"));
}

}  // namespace
}  // namespace stamina::server
