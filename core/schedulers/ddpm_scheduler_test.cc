#include "core/schedulers/ddpm_scheduler.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::HasSubstr;

// ᾱ_t for SD's scaled_linear schedule, computed independently in double.
std::vector<double> ReferenceAlphasCumprod() {
  const double a = std::sqrt(0.00085);
  const double b = std::sqrt(0.012);
  std::vector<double> out;
  double product = 1;
  for (int i = 0; i < 1000; ++i) {
    const double root = a + (b - a) * i / 999.0;
    product *= 1 - root * root;
    out.push_back(product);
  }
  return out;
}

TEST(DDPMSchedulerTest, AlphasCumprodMatchesClosedForm) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      DDPMScheduler ddpm,
      DDPMScheduler::Create(DDPMSchedulerConfig::StableDiffusion15()));
  const std::vector<double> want = ReferenceAlphasCumprod();
  for (int t : {0, 1, 10, 250, 500, 750, 999}) {
    const double got = ddpm.alphas_cumprod()[t].item<double>();
    EXPECT_NEAR(got, want[t], 1e-5 * want[t] + 1e-7) << t;
  }
  EXPECT_NEAR(want[0], 1 - 0.00085, 1e-12);
  EXPECT_NEAR(want[999], 0.0047, 1e-4);  // SD's ᾱ_999 ≈ 0.00466
}

TEST(DDPMSchedulerTest, AddNoiseIsClosedForm) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      DDPMScheduler ddpm,
      DDPMScheduler::Create(DDPMSchedulerConfig::StableDiffusion15()));
  torch::manual_seed(0);
  const torch::Tensor x0 = torch::randn({3, 4, 2, 2}, torch::kFloat64);
  const torch::Tensor eps = torch::randn({3, 4, 2, 2}, torch::kFloat64);
  const std::vector<int64_t> ts = {0, 499, 999};
  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor noisy,
                               ddpm.AddNoise(x0, eps, torch::tensor(ts)));
  const std::vector<double> ref = ReferenceAlphasCumprod();
  for (int b = 0; b < 3; ++b) {
    const double a = ref[ts[b]];
    const torch::Tensor want = std::sqrt(a) * x0[b] + std::sqrt(1 - a) * eps[b];
    EXPECT_TRUE(torch::allclose(noisy[b], want, 1e-5, 1e-6)) << ts[b];
  }
  // One timestep for the whole batch; float32 stays float32.
  STAMINA_ASSERT_OK_AND_ASSIGN(
      noisy, ddpm.AddNoise(x0.to(torch::kFloat), eps.to(torch::kFloat),
                           torch::tensor({999}, torch::kInt32)));
  EXPECT_EQ(noisy.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::allclose(
      noisy[2],
      (std::sqrt(ref[999]) * x0[2] + std::sqrt(1 - ref[999]) * eps[2])
          .to(torch::kFloat),
      1e-4, 1e-5));
}

TEST(DDPMSchedulerTest, InvalidArgumentsAreRejected) {
  DDPMSchedulerConfig config;
  config.beta_schedule = "quadratic";
  EXPECT_THAT(
      DDPMScheduler::Create(config),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("beta_schedule")));
  config = DDPMSchedulerConfig();
  config.prediction_type = "v_prediction";
  EXPECT_THAT(DDPMScheduler::Create(config),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  config = DDPMSchedulerConfig();
  config.num_train_timesteps = 0;
  EXPECT_THAT(DDPMScheduler::Create(config),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));

  STAMINA_ASSERT_OK_AND_ASSIGN(DDPMScheduler ddpm,
                               DDPMScheduler::Create(DDPMSchedulerConfig()));
  const torch::Tensor x = torch::zeros({2, 3});
  EXPECT_THAT(ddpm.AddNoise(x, x, torch::tensor({1000, 0})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1000")));
  EXPECT_THAT(ddpm.AddNoise(x, x, torch::tensor({-1, 0})),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ddpm.AddNoise(x, x, torch::tensor({1, 2, 3})),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ddpm.AddNoise(x, torch::zeros({2, 4}), torch::tensor({1, 2})),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ddpm.AddNoise(x, x, torch::tensor({1.0, 2.0})),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace stamina::core
