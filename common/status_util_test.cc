#include "common/status_util.h"

#include "absl/strings/cord.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina {
namespace {

using ::testing::Eq;

TEST(AnnotateTest, PrefixesContextAndKeepsCode) {
  absl::Status annotated =
      Annotate(absl::NotFoundError("no such file"), "loading version 7");
  EXPECT_THAT(annotated, StatusIs(absl::StatusCode::kNotFound,
                                  Eq("loading version 7: no such file")));
}

TEST(AnnotateTest, KeepsPayloads) {
  absl::Status status = absl::DataLossError("bad header");
  status.SetPayload("type.example/detail", absl::Cord("offset=12"));
  absl::Status annotated = Annotate(status, "reading adapter");
  ASSERT_TRUE(annotated.GetPayload("type.example/detail").has_value());
  EXPECT_EQ(*annotated.GetPayload("type.example/detail"), "offset=12");
}

TEST(AnnotateTest, OkAndEmptyContextAreUnchanged) {
  EXPECT_THAT(Annotate(absl::OkStatus(), "context"), IsOk());
  EXPECT_THAT(Annotate(absl::AbortedError("lease lost"), ""),
              StatusIs(absl::StatusCode::kAborted, Eq("lease lost")));
}

TEST(AnnotateTest, EmptyMessageBecomesContext) {
  EXPECT_THAT(Annotate(absl::Status(absl::StatusCode::kInternal, ""), "fold"),
              StatusIs(absl::StatusCode::kInternal, Eq("fold")));
}

TEST(StatusCodeNameTest, MatchesGrpcSpelling) {
  EXPECT_EQ(StatusCodeName(absl::StatusCode::kOk), "OK");
  EXPECT_EQ(StatusCodeName(absl::StatusCode::kInvalidArgument),
            "INVALID_ARGUMENT");
  EXPECT_EQ(StatusCodeName(absl::StatusCode::kFailedPrecondition),
            "FAILED_PRECONDITION");
  EXPECT_EQ(StatusCodeName(absl::StatusCode::kResourceExhausted),
            "RESOURCE_EXHAUSTED");
  EXPECT_EQ(StatusCodeName(absl::StatusCode::kDataLoss), "DATA_LOSS");
  EXPECT_EQ(StatusCodeName(absl::StatusCode::kUnauthenticated),
            "UNAUTHENTICATED");
}

}  // namespace
}  // namespace stamina
