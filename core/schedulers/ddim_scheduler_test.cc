#include "core/schedulers/ddim_scheduler.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "ATen/CPUGeneratorImpl.h"
#include "absl/status/status.h"
#include "common/testing/status_matchers.h"
#include "core/schedulers/ddpm_scheduler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

DDIMScheduler SD15(int64_t steps) {
  absl::StatusOr<DDIMScheduler> ddim =
      DDIMScheduler::Create(DDIMSchedulerConfig::StableDiffusion15());
  EXPECT_TRUE(ddim.ok()) << ddim.status();
  EXPECT_TRUE(ddim->SetTimesteps(steps).ok());
  return *std::move(ddim);
}

double Alpha(const DDIMScheduler& ddim, int64_t t) {
  return t >= 0 ? ddim.alphas_cumprod()[t].item<double>()
                : ddim.final_alpha_cumprod();
}

TEST(DDIMSchedulerTest, StableDiffusionTimestepsFor50Steps) {
  DDIMScheduler ddim = SD15(50);
  ASSERT_EQ(ddim.timesteps().size(), 50u);
  for (int k = 0; k < 50; ++k) EXPECT_EQ(ddim.timesteps()[k], 981 - 20 * k);
  EXPECT_EQ(ddim.timesteps().back(), 1);
  EXPECT_NEAR(ddim.final_alpha_cumprod(), 1 - 0.00085, 1e-7);
}

TEST(DDIMSchedulerTest, OtherSpacings) {
  DDIMSchedulerConfig config;
  config.timestep_spacing = "trailing";
  STAMINA_ASSERT_OK_AND_ASSIGN(DDIMScheduler ddim,
                               DDIMScheduler::Create(config));
  STAMINA_ASSERT_OK(ddim.SetTimesteps(4));
  EXPECT_THAT(ddim.timesteps(), ElementsAre(999, 749, 499, 249));
  config.timestep_spacing = "linspace";
  STAMINA_ASSERT_OK_AND_ASSIGN(ddim, DDIMScheduler::Create(config));
  STAMINA_ASSERT_OK(ddim.SetTimesteps(4));
  EXPECT_THAT(ddim.timesteps(), ElementsAre(999, 666, 333, 0));
}

TEST(DDIMSchedulerTest, StepWithTrueNoiseRecoversX0AndIsClosedForm) {
  DDIMScheduler ddim = SD15(50);
  STAMINA_ASSERT_OK_AND_ASSIGN(
      DDPMScheduler ddpm,
      DDPMScheduler::Create(DDPMSchedulerConfig::StableDiffusion15()));
  torch::manual_seed(0);
  const torch::Tensor x0 = torch::randn({2, 4, 8, 8}, torch::kFloat64);
  const torch::Tensor eps = torch::randn({2, 4, 8, 8}, torch::kFloat64);
  for (int64_t t : {981, 501, 21, 1}) {
    SCOPED_TRACE(t);
    STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor xt,
                                 ddpm.AddNoise(x0, eps, torch::tensor({t})));
    STAMINA_ASSERT_OK_AND_ASSIGN(DDIMStepOutput out, ddim.Step(eps, t, xt));
    EXPECT_TRUE(torch::allclose(out.pred_original_sample, x0, 1e-6, 1e-6));
    const double a_prev = Alpha(ddim, t - 20);
    const torch::Tensor want =
        std::sqrt(a_prev) * x0 + std::sqrt(1 - a_prev) * eps;
    EXPECT_TRUE(torch::allclose(out.prev_sample, want, 1e-6, 1e-6));
  }
}

// ε-predictor that knows x0: ε̂ = (x_t - sqrt(ᾱ_t) x0) / sqrt(1 - ᾱ_t).
torch::Tensor OracleEpsilon(const DDIMScheduler& ddim, const torch::Tensor& x,
                            const torch::Tensor& x0, int64_t t) {
  const double a = Alpha(ddim, t);
  return (x - std::sqrt(a) * x0) / std::sqrt(1 - a);
}

TEST(DDIMSchedulerTest, FullLoopWithOracleLandsOnX0) {
  torch::manual_seed(1);
  const torch::Tensor x0 = torch::rand({1, 4, 8, 8}) * 2 - 1;
  const torch::Tensor start = torch::randn({1, 4, 8, 8});

  // SD 1.5 settings: the last step goes to ᾱ_0 (set_alpha_to_one false), so
  // x̂0 of the last step is x0 and the final sample is x0 noised to ᾱ_0.
  DDIMScheduler ddim = SD15(50);
  torch::Tensor x = start;
  DDIMStepOutput out;
  for (int64_t t : ddim.timesteps()) {
    STAMINA_ASSERT_OK_AND_ASSIGN(
        out, ddim.Step(OracleEpsilon(ddim, x, x0, t), t, x));
    x = out.prev_sample;
  }
  EXPECT_LT((out.pred_original_sample - x0).abs().max().item<double>(), 1e-4);
  const double a0 = ddim.final_alpha_cumprod();
  const torch::Tensor eps = OracleEpsilon(ddim, x, x0, -1);
  EXPECT_LT((x - (std::sqrt(a0) * x0 + std::sqrt(1 - a0) * eps))
                .abs()
                .max()
                .item<double>(),
            1e-4);

  // With set_alpha_to_one the loop ends exactly on x0.
  DDIMSchedulerConfig config = DDIMSchedulerConfig::StableDiffusion15();
  config.set_alpha_to_one = true;
  STAMINA_ASSERT_OK_AND_ASSIGN(ddim, DDIMScheduler::Create(config));
  STAMINA_ASSERT_OK(ddim.SetTimesteps(50));
  x = start;
  for (int64_t t : ddim.timesteps()) {
    STAMINA_ASSERT_OK_AND_ASSIGN(
        out, ddim.Step(OracleEpsilon(ddim, x, x0, t), t, x));
    x = out.prev_sample;
  }
  EXPECT_LT((x - x0).abs().max().item<double>(), 1e-4);
}

TEST(DDIMSchedulerTest, EtaAddsScaledNoiseDeterministically) {
  DDIMScheduler ddim = SD15(50);
  torch::manual_seed(2);
  const torch::Tensor x = torch::randn({1, 4, 4, 4});
  const torch::Tensor eps = torch::randn({1, 4, 4, 4});
  const torch::Tensor noise = torch::randn({1, 4, 4, 4});
  const int64_t t = 501;
  DDIMStepOptions options;
  options.eta = 1.0;
  options.variance_noise = noise;
  STAMINA_ASSERT_OK_AND_ASSIGN(DDIMStepOutput out,
                               ddim.Step(eps, t, x, options));
  const double a = Alpha(ddim, t);
  const double ap = Alpha(ddim, t - 20);
  const double sigma = std::sqrt((1 - ap) / (1 - a) * (1 - a / ap));
  const torch::Tensor x0 = (x - std::sqrt(1 - a) * eps) / std::sqrt(a);
  const torch::Tensor want = std::sqrt(ap) * x0 +
                             std::sqrt(1 - ap - sigma * sigma) * eps +
                             sigma * noise;
  EXPECT_TRUE(torch::allclose(out.prev_sample, want, 1e-5, 1e-5));

  // Seeded generators give the same step twice.
  options.variance_noise = torch::Tensor();
  options.generator = at::detail::createCPUGenerator(42);
  STAMINA_ASSERT_OK_AND_ASSIGN(DDIMStepOutput first,
                               ddim.Step(eps, t, x, options));
  options.generator = at::detail::createCPUGenerator(42);
  STAMINA_ASSERT_OK_AND_ASSIGN(DDIMStepOutput second,
                               ddim.Step(eps, t, x, options));
  EXPECT_TRUE(torch::equal(first.prev_sample, second.prev_sample));
}

TEST(DDIMSchedulerTest, InvalidConfigsAndArgumentsAreRejected) {
  DDIMSchedulerConfig config = DDIMSchedulerConfig::StableDiffusion15();
  config.beta_schedule = "exotic";
  EXPECT_THAT(DDIMScheduler::Create(config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown beta_schedule")));
  config = DDIMSchedulerConfig::StableDiffusion15();
  config.prediction_type = "x";
  EXPECT_THAT(DDIMScheduler::Create(config),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  config = DDIMSchedulerConfig::StableDiffusion15();
  config.timestep_spacing = "random";
  EXPECT_THAT(DDIMScheduler::Create(config),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));

  STAMINA_ASSERT_OK_AND_ASSIGN(
      DDIMScheduler ddim,
      DDIMScheduler::Create(DDIMSchedulerConfig::StableDiffusion15()));
  const torch::Tensor x = torch::zeros({1, 4, 2, 2});
  EXPECT_THAT(ddim.Step(x, 981, x),
              StatusCodeIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(ddim.SetTimesteps(0),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ddim.SetTimesteps(-5),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ddim.SetTimesteps(1001),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  // Leading spacing + offset 1 with 1000 steps would reach timestep 1000.
  EXPECT_THAT(ddim.SetTimesteps(1000),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1000")));
  STAMINA_ASSERT_OK(ddim.SetTimesteps(50));
  EXPECT_THAT(ddim.Step(x, 1000, x),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ddim.Step(x, -1, x),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ddim.Step(torch::zeros({1, 4, 2, 3}), 981, x),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  DDIMStepOptions options;
  options.eta = -1;
  EXPECT_THAT(ddim.Step(x, 981, x, options),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace stamina::core
