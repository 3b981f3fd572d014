#include "common/status_macros.h"

#include <memory>
#include <string>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina {
namespace {

using ::testing::Eq;
using ::testing::Pointee;

absl::StatusOr<int> ParsePositive(int value) {
  if (value <= 0) return absl::InvalidArgumentError("not positive");
  return value;
}

absl::Status CheckTwice(int a, int b, int* calls) {
  ++*calls;
  STAMINA_RETURN_IF_ERROR(ParsePositive(a).status());
  ++*calls;
  STAMINA_RETURN_IF_ERROR(ParsePositive(b).status()) << "second value " << b;
  ++*calls;
  return absl::OkStatus();
}

TEST(ReturnIfErrorTest, ContinuesOnOk) {
  int calls = 0;
  EXPECT_THAT(CheckTwice(1, 2, &calls), IsOk());
  EXPECT_EQ(calls, 3);
}

TEST(ReturnIfErrorTest, ReturnsFirstError) {
  int calls = 0;
  EXPECT_THAT(CheckTwice(-1, 2, &calls),
              StatusIs(absl::StatusCode::kInvalidArgument, Eq("not positive")));
  EXPECT_EQ(calls, 1);
}

TEST(ReturnIfErrorTest, StreamsContext) {
  int calls = 0;
  EXPECT_THAT(CheckTwice(1, -5, &calls),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("second value -5: not positive")));
  EXPECT_EQ(calls, 2);
}

absl::StatusOr<std::string> Describe(int value) {
  STAMINA_RETURN_IF_ERROR(ParsePositive(value).status()) << "describe";
  return std::string("ok");
}

TEST(ReturnIfErrorTest, ConvertsToStatusOr) {
  EXPECT_THAT(Describe(3), IsOkAndHolds(Eq("ok")));
  EXPECT_THAT(Describe(0), StatusIs(absl::StatusCode::kInvalidArgument,
                                    Eq("describe: not positive")));
}

absl::StatusOr<int> SumOfPositives(int a, int b) {
  STAMINA_ASSIGN_OR_RETURN(int x, ParsePositive(a));
  int y = 0;
  STAMINA_ASSIGN_OR_RETURN(y, ParsePositive(b));
  return x + y;
}

TEST(AssignOrReturnTest, AssignsDeclarationsAndExistingVariables) {
  EXPECT_THAT(SumOfPositives(2, 3), IsOkAndHolds(5));
}

TEST(AssignOrReturnTest, ReturnsError) {
  EXPECT_THAT(SumOfPositives(2, -3),
              StatusIs(absl::StatusCode::kInvalidArgument, Eq("not positive")));
}

absl::StatusOr<std::unique_ptr<int>> MakeBox(int value) {
  if (value < 0) return absl::OutOfRangeError("negative");
  return std::make_unique<int>(value);
}

absl::StatusOr<std::unique_ptr<int>> Rebox(int value) {
  STAMINA_ASSIGN_OR_RETURN(std::unique_ptr<int> box, MakeBox(value));
  *box += 1;
  return box;
}

TEST(AssignOrReturnTest, MovesMoveOnlyValues) {
  EXPECT_THAT(Rebox(41), IsOkAndHolds(Pointee(42)));
  EXPECT_THAT(Rebox(-1), StatusCodeIs(absl::StatusCode::kOutOfRange));
}

}  // namespace
}  // namespace stamina
