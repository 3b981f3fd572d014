#include "common/pixel_drift.h"

#include <vector>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina {
namespace {

std::vector<uint8_t> Fill(int side, uint8_t value) {
  return std::vector<uint8_t>(static_cast<size_t>(side) * side * 3, value);
}

TEST(RmsPixelDriftTest, ZeroForTheSamePixelsOneForBlackAgainstWhite) {
  const std::vector<uint8_t> black = Fill(4, 0), white = Fill(4, 255), grey = Fill(4, 51);
  const RgbView b{4, 4, black.data()}, w{4, 4, white.data()}, g{4, 4, grey.data()};
  EXPECT_THAT(RmsPixelDrift({b, w}, {b, w}), IsOkAndHolds(0.0));
  EXPECT_THAT(RmsPixelDrift({b}, {w}), IsOkAndHolds(1.0));
  // The mean over pairs: (0.2 + 0) / 2.
  STAMINA_ASSERT_OK_AND_ASSIGN(double drift, RmsPixelDrift({b, b}, {g, b}));
  EXPECT_NEAR(drift, 0.1, 1e-12);
}

TEST(RmsPixelDriftTest, RefusesMismatchedCountsAndSizes) {
  const std::vector<uint8_t> small = Fill(4, 0), large = Fill(8, 0);
  const RgbView s{4, 4, small.data()}, l{8, 8, large.data()};
  EXPECT_THAT(RmsPixelDrift({s}, {l}), StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RmsPixelDrift({s}, {}), StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RmsPixelDrift({}, {}), StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace stamina
