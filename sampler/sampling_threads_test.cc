#include "sampler/sampling_threads.h"

#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::sampler {
namespace {

using ::testing::HasSubstr;

TEST(SamplingThreadsTest, ManyCallersShareThePoolsThreadsOnly) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto pool, SamplingThreads::Create(2));
  absl::Mutex mu;
  std::set<std::thread::id> runners, callers;
  int finished = 0;
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        int result = 0;
        pool->Run([&] {
          absl::MutexLock lock(&mu);
          runners.insert(std::this_thread::get_id());
          result = 1;
        });
        absl::MutexLock lock(&mu);
        callers.insert(std::this_thread::get_id());
        finished += result;  // Run returned after the job ran
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(finished, 40);
  EXPECT_LE(runners.size(), 2u);
  for (const std::thread::id& id : runners) EXPECT_EQ(callers.count(id), 0u);
}

TEST(SamplingThreadsTest, EachThreadStartsWithTheHook) {
  thread_local int started_here = 0;
  absl::Mutex mu;
  int starts = 0;
  STAMINA_ASSERT_OK_AND_ASSIGN(auto pool, SamplingThreads::Create(3, [&] {
                                 started_here = 1;
                                 absl::MutexLock lock(&mu);
                                 ++starts;
                               }));
  int seen = 0;
  pool->Run([&] { seen = started_here; });
  EXPECT_EQ(seen, 1);
  pool.reset();  // joins: every thread has run the hook
  EXPECT_EQ(starts, 3);
}

TEST(SamplingThreadsTest, RefusesAThreadCountOutOfRange) {
  EXPECT_THAT(SamplingThreads::Create(0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("threads: 0")));
  EXPECT_THAT(SamplingThreads::Create(65), StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace stamina::sampler
