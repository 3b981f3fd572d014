// File: common/testing/status_matchers.h
//
// GoogleTest matchers for absl::Status and absl::StatusOr<T>, named and
// behaving like Abseil's absl/status/status_matchers.h (LTS 20250814), which
// the installed Abseil lacks. Delete on upgrade and switch the includes.
//
//   EXPECT_THAT(store.Get("x"), StatusIs(absl::StatusCode::kNotFound,
//                                        HasSubstr("models/x")));
//   EXPECT_THAT(ParsePort("80"), IsOkAndHolds(80));
//   STAMINA_ASSERT_OK(db.Open());
//   STAMINA_ASSERT_OK_AND_ASSIGN(auto job, queue.Claim());
#ifndef STAMINA_COMMON_TESTING_STATUS_MATCHERS_H_
#define STAMINA_COMMON_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace absl {
// Lets gtest print codes by name in failure messages.
inline void PrintTo(StatusCode code, std::ostream* os) {
  *os << stamina::StatusCodeName(code);
}
}  // namespace absl

namespace stamina {
namespace status_matchers_internal {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace status_matchers_internal

MATCHER(IsOk, negation ? "is not OK" : "is OK") {
  const absl::Status& status = status_matchers_internal::GetStatus(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

MATCHER_P2(StatusIs, code, message_matcher,
           std::string(negation ? "has not " : "has ") + "code " +
               std::string(StatusCodeName(code)) + " and a matching message") {
  const absl::Status& status = status_matchers_internal::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::ExplainMatchResult(message_matcher,
                                       std::string(status.message()),
                                       result_listener);
}

MATCHER_P(StatusCodeIs, code,
          std::string(negation ? "has not " : "has ") + "code " +
              std::string(StatusCodeName(code))) {
  const absl::Status& status = status_matchers_internal::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}

MATCHER_P(IsOkAndHolds, value_matcher,
          negation ? "is not OK or holds a value that does not match"
                   : "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

}  // namespace stamina

// absl::Status or absl::StatusOr<T> is OK.
#define STAMINA_EXPECT_OK(expr) EXPECT_THAT((expr), ::stamina::IsOk())
#define STAMINA_ASSERT_OK(expr) ASSERT_THAT((expr), ::stamina::IsOk())

#define STAMINA_MATCHERS_CONCAT_INNER_(a, b) a##b
#define STAMINA_MATCHERS_CONCAT_(a, b) STAMINA_MATCHERS_CONCAT_INNER_(a, b)

// Asserts that `rexpr` (an absl::StatusOr<T>) is OK and moves its value into
// `lhs` (a declaration or an existing variable).
#define STAMINA_ASSERT_OK_AND_ASSIGN(lhs, rexpr)                            \
  STAMINA_ASSERT_OK_AND_ASSIGN_IMPL_(                                       \
      STAMINA_MATCHERS_CONCAT_(stamina_assert_status_or_, __LINE__), lhs, \
      rexpr)
#define STAMINA_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                       \
  ASSERT_THAT(statusor.status(), ::stamina::IsOk());             \
  lhs = std::move(statusor).value()

#endif  // STAMINA_COMMON_TESTING_STATUS_MATCHERS_H_
