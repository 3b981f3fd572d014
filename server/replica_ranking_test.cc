#include "server/replica_ranking.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::server {
namespace {

std::vector<std::string> Replicas(int n) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back(absl::StrCat("sampler-", i, ":7071"));
  return names;
}

std::string Key(int i) { return absl::StrCat("tenant-", i % 7, "/model-", i); }

TEST(ReplicaRankingTest, RanksEveryReplicaOnce) {
  const std::vector<int> order = RankReplicas("acme/m", Replicas(5));
  EXPECT_THAT(order, ::testing::UnorderedElementsAre(0, 1, 2, 3, 4));
  EXPECT_TRUE(RankReplicas("acme/m", {}).empty());
}

TEST(ReplicaRankingTest, IsStableAndIndependentOfReplicaOrder) {
  const std::vector<std::string> replicas = Replicas(4);
  std::vector<std::string> reversed(replicas.rbegin(), replicas.rend());
  for (int i = 0; i < 200; ++i) {
    const std::vector<int> order = RankReplicas(Key(i), replicas);
    EXPECT_EQ(RankReplicas(Key(i), replicas), order);
    const std::vector<int> other = RankReplicas(Key(i), reversed);
    ASSERT_EQ(other.size(), order.size());
    for (size_t k = 0; k < order.size(); ++k) {
      EXPECT_EQ(reversed[other[k]], replicas[order[k]]);
    }
  }
  // Pinned, so that a change of hash (which would move every model and cool
  // every cache in a rolling upgrade) is deliberate.
  EXPECT_EQ(RendezvousWeight("acme/m", "sampler-0:7071"), 0xfdc9c86e1ce434ebull);
  EXPECT_NE(RendezvousWeight("ab", "c"), RendezvousWeight("a", "bc"));
}

TEST(ReplicaRankingTest, SpreadsKeysEvenly) {
  constexpr int kKeys = 4000;
  const std::vector<std::string> replicas = Replicas(4);
  std::map<int, int> homes;
  for (int i = 0; i < kKeys; ++i) ++homes[RankReplicas(Key(i), replicas)[0]];
  ASSERT_EQ(homes.size(), 4u);
  for (const auto& [replica, count] : homes) {
    EXPECT_GT(count, kKeys / 4 * 8 / 10) << replica;
    EXPECT_LT(count, kKeys / 4 * 12 / 10) << replica;
  }
}

TEST(ReplicaRankingTest, AddingAReplicaMovesOnlyItsShare) {
  constexpr int kKeys = 4000;
  const std::vector<std::string> four = Replicas(4);
  const std::vector<std::string> five = Replicas(5);
  int moved = 0;
  for (int i = 0; i < kKeys; ++i) {
    const std::string before = four[RankReplicas(Key(i), four)[0]];
    const std::string after = five[RankReplicas(Key(i), five)[0]];
    if (before != after) {
      ++moved;
      EXPECT_EQ(after, five[4]) << "a key moved between two old replicas";
    }
  }
  // ~1/5 of the keys, and only to the new replica.
  EXPECT_GT(moved, kKeys / 5 * 8 / 10);
  EXPECT_LT(moved, kKeys / 5 * 12 / 10);
}

TEST(ReplicaRankingTest, RemovingAReplicaFailsOverToTheNextInRank) {
  const std::vector<std::string> three = Replicas(3);
  const std::vector<std::string> two = {three[0], three[2]};
  for (int i = 0; i < 500; ++i) {
    const std::vector<int> order = RankReplicas(Key(i), three);
    std::vector<std::string> expected;
    for (int k : order) {
      if (k != 1) expected.push_back(three[k]);
    }
    std::vector<std::string> got;
    for (int k : RankReplicas(Key(i), two)) got.push_back(two[k]);
    EXPECT_EQ(got, expected);
  }
}

}  // namespace
}  // namespace stamina::server
