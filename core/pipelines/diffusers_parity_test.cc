// Issue #20's parity acceptance: the fixture diffusers and transformers made
// (testdata/diffusers-tiny-sd), recomputed here in fp32 on the CPU.
#include "core/pipelines/diffusers_parity.h"

#include <map>
#include <string>

#include "common/testing/status_matchers.h"
#include "core/pipelines/diffusers_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::core {
namespace {

constexpr char kCheckpoint[] = "testdata/diffusers-tiny-sd/checkpoint";
constexpr char kReference[] = "testdata/diffusers-tiny-sd/reference.safetensors";

TEST(DiffusersParityTest, EveryReferenceTensorWithinTolerance) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, LoadDiffusersModel(kCheckpoint));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<ParityLine> lines,
                               CheckDiffusersParity(model, kReference));
  std::map<std::string, double> errors;
  for (const ParityLine& line : lines) {
    errors[line.name] = line.max_abs_error;
    EXPECT_TRUE(line.ok()) << line.name << " " << line.max_abs_error << " > "
                           << line.tolerance;
  }
  // Every stage the issue names was recomputed, with its tolerance.
  for (const char* name :
       {"token_ids", "text_encoder.last_hidden_state", "unet.out.t999", "unet.out.t500",
        "unet.out.t1", "vae.encode.mean", "vae.encode.logvar", "vae.decode.out",
        "ddim.timesteps.n10", "ddim.timesteps.n25", "ddim.timesteps.n50",
        "ddim.step.prev_sample", "pipeline.ddim10.cfg7_5.image"}) {
    EXPECT_EQ(errors.count(name), 1u) << name;
  }
  EXPECT_EQ(errors["token_ids"], 0.0);  // ids are equal, not close
  EXPECT_EQ(errors["ddim.timesteps.n50"], 0.0);
  EXPECT_LE(errors["pipeline.ddim10.cfg7_5.image"], 1e-3);
}

TEST(DiffusersParityTest, ACheckpointThatDiffersFails) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, LoadDiffusersModel(kCheckpoint));
  {
    torch::NoGradGuard no_grad;
    model.unet->conv_out->bias.add_(1e-3);
  }
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<ParityLine> lines,
                               CheckDiffusersParity(model, kReference));
  for (const ParityLine& line : lines) {
    if (line.name.rfind("unet.out", 0) == 0) {
      EXPECT_FALSE(line.ok()) << line.name;
    }
    if (line.name.rfind("text_encoder", 0) == 0) {
      EXPECT_TRUE(line.ok()) << line.name;
    }
  }
}

}  // namespace
}  // namespace stamina::core
