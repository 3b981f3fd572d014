#include "server/field_checks.h"

#include <limits>

#include "gtest/gtest.h"

namespace stamina::server {
namespace {

TEST(CheckInRangeTest, PrintsIntegersAsIntegers) {
  EXPECT_TRUE(CheckInRange("steps", 50, 1, 200).ok());
  EXPECT_EQ(CheckInRange("image_count", 1000000, 1, 16).message(),
            "image_count: 1000000 is out of range [1, 16]");
  EXPECT_EQ(CheckInRange("settings.steps", 2147483647, 1, 20000).message(),
            "settings.steps: 2147483647 is out of range [1, 20000]");
  EXPECT_EQ(CheckInRange("guidance_scale", 30.5, 1, 30).message(),
            "guidance_scale: 30.5 is out of range [1, 30]");
  EXPECT_EQ(CheckInRange("settings.learning_rate", 2, 1e-8, 1).message(),
            "settings.learning_rate: 2 is out of range [1e-08, 1]");
  EXPECT_EQ(CheckInRange("x", std::numeric_limits<double>::quiet_NaN(), 0, 1).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stamina::server
