#include "core/schedulers/sampling_scheduler.h"

#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "core/io/file_bytes.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::stamina::StatusIs;
using ::testing::HasSubstr;

// The synthetic model of testdata/schedulers/make_scheduler_reference.py.
torch::Tensor FakeModel(const torch::Tensor& x, double t) {
  const torch::Tensor index = torch::arange(x.numel(), torch::kFloat32).reshape(x.sizes());
  return 0.3 * x + 0.05 * torch::cos(static_cast<float>(t) / 100 + index);
}

// Every case diffusers ran: same timesteps, same initial sigma, and every
// step's sample within 1e-5 (float32 arithmetic in another order).
TEST(SamplingSchedulerTest, MatchesDiffusersStepByStep) {
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string text,
                               ReadFileBytes("testdata/schedulers/reference.json"));
  const nlohmann::json reference = nlohmann::json::parse(text);
  int cases = 0;
  for (const auto& [name, expected] : reference["cases"].items()) {
    SCOPED_TRACE(name);
    const std::vector<std::string> parts = {name.substr(0, name.find('.')),
                                            name.substr(name.find('.') + 1)};
    DDIMSchedulerConfig schedule = DDIMSchedulerConfig::StableDiffusion15();
    schedule.timestep_spacing = parts[1].substr(0, parts[1].find('.'));
    if (name.find("v_prediction") != std::string::npos) schedule.prediction_type = "v_prediction";
    const int64_t steps = std::stoi(name.substr(name.rfind(".n") + 2));
    STAMINA_ASSERT_OK_AND_ASSIGN(SamplerKind kind, ParseSamplerKind(parts[0]));
    STAMINA_ASSERT_OK_AND_ASSIGN(std::unique_ptr<SamplingScheduler> scheduler,
                                 CreateSamplingScheduler(kind, schedule, {}));
    STAMINA_ASSERT_OK(scheduler->SetTimesteps(steps));
    EXPECT_EQ(scheduler->timesteps(), expected["timesteps"].get<std::vector<double>>());
    EXPECT_NEAR(scheduler->init_noise_sigma(), expected["init_noise_sigma"].get<double>(), 1e-5);
    torch::Tensor sample =
        torch::sin(torch::arange(32, torch::kFloat32) * 0.7).reshape({1, 2, 4, 4}) *
        static_cast<float>(scheduler->init_noise_sigma());
    const auto& samples = expected["samples"];
    ASSERT_EQ(samples.size(), scheduler->timesteps().size());
    for (size_t k = 0; k < scheduler->timesteps().size(); ++k) {
      const torch::Tensor input = scheduler->ScaleModelInput(sample, k);
      STAMINA_ASSERT_OK_AND_ASSIGN(
          sample, scheduler->Step(FakeModel(input, scheduler->timesteps()[k]), k, sample));
      const torch::Tensor theirs =
          torch::tensor(samples[k].get<std::vector<float>>()).reshape(sample.sizes());
      EXPECT_LT((sample - theirs).abs().max().item<double>(), 1e-5) << "step " << k;
    }
    ++cases;
  }
  EXPECT_EQ(cases, 10);
}

TEST(SamplingSchedulerTest, RefusesWhatItDoesNotImplement) {
  const DDIMSchedulerConfig schedule = DDIMSchedulerConfig::StableDiffusion15();
  EXPECT_THAT(CreateSamplingScheduler(SamplerKind::kPndm, schedule,
                                      {{"skip_prk_steps", "false"}})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("skip_prk_steps")));
  EXPECT_THAT(CreateSamplingScheduler(SamplerKind::kEuler, schedule,
                                      {{"use_karras_sigmas", "true"}})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("use_karras_sigmas")));
  EXPECT_THAT(ParseSamplerKind("dpm++", "sampler").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sampler")));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto pndm,
                               CreateSamplingScheduler(SamplerKind::kPndm, schedule, {}));
  STAMINA_ASSERT_OK(pndm->SetTimesteps(5));
  const torch::Tensor x = torch::zeros({1, 4, 2, 2});
  EXPECT_THAT(pndm->Step(x, 1, x).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("out of order")));
}

}  // namespace
}  // namespace stamina::core
