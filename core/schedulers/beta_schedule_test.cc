#include "core/schedulers/beta_schedule.h"

#include <cmath>
#include <cstdint>

#include "absl/status/status.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::HasSubstr;

TEST(BetaScheduleTest, ScaledLinearMatchesClosedForm) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      torch::Tensor betas, MakeBetas("scaled_linear", 0.00085, 0.012, 1000));
  ASSERT_EQ(betas.scalar_type(), torch::kFloat32);
  ASSERT_EQ(betas.numel(), 1000);
  const double a = std::sqrt(0.00085);
  const double b = std::sqrt(0.012);
  for (int64_t i : {0, 1, 250, 500, 999}) {
    const double root = a + (b - a) * static_cast<double>(i) / 999.0;
    EXPECT_NEAR(betas[i].item<double>(), root * root, 1e-8) << i;
  }
}

TEST(BetaScheduleTest, LinearAndCosine) {
  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor linear,
                               MakeBetas("linear", 0.0001, 0.02, 1000));
  EXPECT_NEAR(linear[0].item<double>(), 0.0001, 1e-9);
  EXPECT_NEAR(linear[999].item<double>(), 0.02, 1e-9);
  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor cosine,
                               MakeBetas("squaredcos_cap_v2", 0, 0, 1000));
  EXPECT_NEAR(cosine[999].item<double>(), 0.999, 1e-6);
  EXPECT_GT(cosine[0].item<double>(), 0.0);
}

TEST(BetaScheduleTest, AlphasCumprodIsCumulativeProduct) {
  const torch::Tensor betas = torch::tensor({0.1f, 0.2f, 0.5f});
  const torch::Tensor cumprod = AlphasCumprod(betas);
  EXPECT_NEAR(cumprod[0].item<double>(), 0.9, 1e-6);
  EXPECT_NEAR(cumprod[1].item<double>(), 0.72, 1e-6);
  EXPECT_NEAR(cumprod[2].item<double>(), 0.36, 1e-6);
}

TEST(BetaScheduleTest, InvalidArgumentsAreRejected) {
  EXPECT_THAT(MakeBetas("cubic", 0.1, 0.2, 10),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown beta_schedule \"cubic\"")));
  EXPECT_THAT(MakeBetas("linear", 0.1, 0.2, 0),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  // Bounded before allocating (the cosine schedule fills a std::vector).
  for (const char* schedule : {"linear", "squaredcos_cap_v2"}) {
    EXPECT_THAT(MakeBetas(schedule, 0.1, 0.2, kMaxTrainTimesteps + 1),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("num_train_timesteps")));
    EXPECT_THAT(MakeBetas(schedule, 0.1, 0.2, int64_t{100000000000}),
                StatusCodeIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_THAT(MakeBetas("linear", 0.1, 0.2, kMaxTrainTimesteps).status(), IsOk());
  EXPECT_THAT(MakeBetas("linear", 0.0, 0.2, 10),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeBetas("scaled_linear", 0.1, 1.5, 10),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace stamina::core
