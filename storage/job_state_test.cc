#include "storage/job_state.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::storage {
namespace {

constexpr JobState kAll[] = {JobState::kQueued, JobState::kRunning,
                             JobState::kSucceeded, JobState::kFailed,
                             JobState::kCancelled};

TEST(JobStateTest, LegalMovesAreExactlyTheDocumentedOnes) {
  int legal = 0;
  for (JobState from : kAll) {
    for (JobState to : kAll) legal += IsLegalJobTransition(from, to);
  }
  // QUEUED→{RUNNING,CANCELLED}, RUNNING→{SUCCEEDED,FAILED,CANCELLED,QUEUED},
  // FAILED→{QUEUED,CANCELLED}.
  EXPECT_EQ(legal, 8);
  EXPECT_TRUE(IsLegalJobTransition(JobState::kRunning, JobState::kQueued));
  EXPECT_TRUE(IsLegalJobTransition(JobState::kFailed, JobState::kCancelled));
  EXPECT_FALSE(IsLegalJobTransition(JobState::kQueued, JobState::kSucceeded));
  EXPECT_FALSE(IsLegalJobTransition(JobState::kQueued, JobState::kQueued));
}

TEST(JobStateTest, TerminalStatesGoNowhere) {
  for (JobState from : {JobState::kSucceeded, JobState::kCancelled}) {
    EXPECT_TRUE(IsTerminal(from));
    for (JobState to : kAll) EXPECT_FALSE(IsLegalJobTransition(from, to));
  }
  EXPECT_FALSE(IsTerminal(JobState::kFailed));
}

TEST(JobStateTest, IllegalMoveIsFailedPreconditionNamingBoth) {
  EXPECT_THAT(CheckJobTransition("j7", JobState::kSucceeded, JobState::kQueued),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::AllOf(::testing::HasSubstr("j7"),
                                        ::testing::HasSubstr("SUCCEEDED"),
                                        ::testing::HasSubstr("QUEUED"))));
  EXPECT_THAT(CheckJobTransition("j7", JobState::kQueued, JobState::kRunning),
              IsOk());
}

}  // namespace
}  // namespace stamina::storage
