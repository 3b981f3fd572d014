#include "common/ids.h"

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina {
namespace {

using ::testing::HasSubstr;

TEST(ValidateResourceIdTest, AcceptsAip122Ids) {
  for (const char* id : {"a", "anna", "old-mill", "v2", "x-1-y",
                         "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"}) {
    EXPECT_THAT(ValidateResourceId(id), IsOk()) << id;
  }
}

TEST(ValidateResourceIdTest, RejectsWithFieldName) {
  EXPECT_THAT(ValidateResourceId("", "concept_id"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("concept_id: must not be empty")));
  EXPECT_THAT(ValidateResourceId("Anna", "concept_id"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("start with a lowercase letter")));
  EXPECT_THAT(ValidateResourceId("1abc"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateResourceId("abc-"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("end with a hyphen")));
  EXPECT_THAT(ValidateResourceId("a_b"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("lowercase letters, digits and hyphens")));
  EXPECT_THAT(ValidateResourceId("a/b"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateResourceId(std::string(64, 'a'), "model_id"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the limit is 63")));
}

TEST(ValidateConceptTokenTest, AcceptsFramedTokens) {
  for (const char* token : {"<a>", "<anna>", "<old-mill>", "<rex_2>",
                            "<abcdefghijklmnopqrstuvwxyz012345>"}) {
    EXPECT_THAT(ValidateConceptToken(token), IsOk()) << token;
  }
}

TEST(ValidateConceptTokenTest, RejectsWithFieldName) {
  for (const char* token : {"", "<>", "anna", "<anna", "anna>", "<Anna>",
                            "<an na>", "<a/b>",
                            "<abcdefghijklmnopqrstuvwxyz0123456>"}) {
    EXPECT_THAT(ValidateConceptToken(token, "concept.token"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("concept.token")))
        << token;
  }
}

TEST(RandomIdGeneratorTest, IdsAreValidAndDistinct) {
  RandomIdGenerator generator;
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    std::string id = generator.NewId();
    ASSERT_EQ(id.size(), RandomIdGenerator::kRandomIdLength);
    ASSERT_THAT(ValidateResourceId(id), IsOk()) << id;
    ASSERT_TRUE(seen.insert(id).second) << "duplicate " << id;
  }
}

TEST(RandomIdGeneratorTest, SeedMakesTheSequenceRepeatable) {
  RandomIdGenerator a({.seed = 42});
  RandomIdGenerator b({.seed = 42});
  RandomIdGenerator c({.seed = 43});
  std::vector<std::string> from_a, from_b, from_c;
  for (int i = 0; i < 5; ++i) {
    from_a.push_back(a.NewId());
    from_b.push_back(b.NewId());
    from_c.push_back(c.NewId());
  }
  EXPECT_EQ(from_a, from_b);
  EXPECT_NE(from_a, from_c);
}

TEST(RandomIdGeneratorTest, IsThreadSafe) {
  RandomIdGenerator generator;
  absl::Mutex mu;
  std::set<std::string> seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        std::string id = generator.NewId();
        absl::MutexLock lock(&mu);
        seen.insert(id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(seen.size(), 2000u);
}

TEST(SequentialIdGeneratorTest, CountsFromOne) {
  SequentialIdGenerator generator("job");
  EXPECT_EQ(generator.NewId(), "job1");
  EXPECT_EQ(generator.NewId(), "job2");
  EXPECT_THAT(ValidateResourceId(generator.NewId()), IsOk());
}

}  // namespace
}  // namespace stamina
