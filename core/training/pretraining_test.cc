#include "core/training/pretraining.h"

#include <atomic>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "core/io/safetensors.h"
#include "core/pipelines/base_models.h"
#include "core/pipelines/image_tensor.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "core/world/renderer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::core {
namespace {

using ::testing::HasSubstr;

std::string FreshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
  EXPECT_EQ(std::system(("rm -rf '" + dir + "'").c_str()), 0);
  return dir;
}

std::string Bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

PretrainingOptions Small(const std::string& dir) {
  return {.out_dir = dir,
          .architecture = kStaminaTestTiny,
          .seed = 5,
          .vae_steps = 3,
          .diffusion_steps = 4,
          .decoder_steps = 2,
          .batch_size = 2,
          .warmup_steps = 2,
          .checkpoint_every = 100,
          .command_line = "test"};
}

TEST(PretrainingTest, InterruptedAndResumedEqualsUninterrupted) {
  const std::string straight = FreshDir("straight");
  std::vector<std::string> seen;
  STAMINA_ASSERT_OK(RunPretraining(Small(straight), [&](const PretrainingProgress& p) {
    seen.push_back(absl::StrCat(p.phase, p.step, "/", p.total_steps));
    EXPECT_TRUE(std::isfinite(p.loss));
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"vae1/3", "vae2/3", "vae3/3",
                                            "diffusion1/4", "diffusion2/4",
                                            "diffusion3/4", "diffusion4/4",
                                            "decoder1/2", "decoder2/2"}));

  const std::string resumed = FreshDir("resumed");
  for (const auto& [phase, step] :
       {std::pair<std::string, int>{"vae", 2}, {"diffusion", 2}, {"decoder", 1}}) {
    std::atomic<bool> stop{false};
    absl::Status status = RunPretraining(
        Small(resumed),
        [&](const PretrainingProgress& p) {
          if (p.phase == phase && p.step == step) stop = true;
        },
        &stop);
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kCancelled, HasSubstr("resume")));
  }
  STAMINA_ASSERT_OK(RunPretraining(Small(resumed)));
  for (const char* file : {"unet.safetensors", "text_encoder.safetensors",
                           "vae.safetensors"}) {
    const std::string a = Bytes(straight + "/model/" + file);
    ASSERT_FALSE(a.empty()) << file;
    EXPECT_TRUE(a == Bytes(resumed + "/model/" + file)) << file << " differs";
  }
}

TEST(PretrainingTest, ExportedModelLoadsAndSamples) {
  const std::string dir = FreshDir("export");
  STAMINA_ASSERT_OK(RunPretraining(Small(dir)));
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, LoadDiffusionModel(dir + "/model"));
  STAMINA_ASSERT_OK_AND_ASSIGN(
      std::vector<Image> images,
      GenerateImages(model, {.prompt = "a red circle on a white background",
                             .steps = 2, .seed = 1}));
  EXPECT_EQ(images.size(), 1u);
  EXPECT_THAT(Bytes(dir + "/model/model_index.json"), HasSubstr("\"seed\": \"5\""));
  const std::string card = Bytes(dir + "/model/MODEL_CARD.md");
  EXPECT_THAT(card, HasSubstr("| seed | 5 |"));
  EXPECT_THAT(card, HasSubstr("final loss"));
  EXPECT_THAT(card, ::testing::Not(HasSubstr("VAE -1,")));  // every phase ran
  EXPECT_THAT(card, ::testing::Not(HasSubstr("decoder -1 ")));
  EXPECT_THAT(LoadDiffusionModel(dir + "/missing"),
              StatusCodeIs(absl::StatusCode::kNotFound));
}

TEST(PretrainingTest, DecoderPhaseLeavesTheEncoderAndUNetAlone) {
  const std::string without = FreshDir("no_decoder");
  PretrainingOptions options = Small(without);
  options.decoder_steps = 0;
  STAMINA_ASSERT_OK(RunPretraining(options));
  const std::string with = FreshDir("decoder");
  STAMINA_ASSERT_OK(RunPretraining(Small(with)));
  // (The files' metadata name the decoder steps, so tensors are compared.)
  for (const char* file : {"/model/unet.safetensors", "/model/text_encoder.safetensors"}) {
    STAMINA_ASSERT_OK_AND_ASSIGN(Safetensors a, ReadSafetensors(without + file));
    STAMINA_ASSERT_OK_AND_ASSIGN(Safetensors b, ReadSafetensors(with + file));
    for (const auto& [name, tensor] : a.tensors) {
      EXPECT_TRUE(torch::equal(tensor, b.tensors.at(name))) << file << " " << name;
    }
  }
  STAMINA_ASSERT_OK_AND_ASSIGN(Safetensors a,
                               ReadSafetensors(without + "/model/vae.safetensors"));
  STAMINA_ASSERT_OK_AND_ASSIGN(Safetensors b,
                               ReadSafetensors(with + "/model/vae.safetensors"));
  int frozen = 0, tuned = 0;
  for (const auto& [name, tensor] : a.tensors) {
    const bool same = torch::equal(tensor, b.tensors.at(name));
    if (name.rfind("decoder.", 0) == 0 || name.rfind("post_quant_conv.", 0) == 0) {
      tuned += same ? 0 : 1;
    } else {
      EXPECT_TRUE(same) << name << " changed in the decoder phase";
      ++frozen;
    }
  }
  EXPECT_GT(frozen, 10);
  EXPECT_GT(tuned, 10);
}

TEST(PretrainingTest, MeasuredScalingFactorGivesUnitVarianceLatents) {
  const std::string dir = FreshDir("scaling");
  PretrainingOptions options = Small(dir);
  options.diffusion_steps = 0;
  options.decoder_steps = 0;
  STAMINA_ASSERT_OK(RunPretraining(options));
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, LoadDiffusionModel(dir + "/model"));
  const double factor = model.config.vae.scaling_factor;
  EXPECT_NE(factor, AutoencoderKLConfig{}.scaling_factor);
  // Scenes the measurement did not see.
  std::vector<Image> images;
  for (uint64_t seed = 1000; seed < 1064; ++seed) {
    images.push_back(PretrainingSample(seed).image);
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor latents =
      model.vae->Encode(ImagesToTensor(images)).Mode() * factor;
  EXPECT_NEAR(latents.std().item<double>(), 1.0, 0.2);

  // The factor travels in model_index.json; a bad one is refused.
  EXPECT_THAT(Bytes(dir + "/model/model_index.json"), HasSubstr(kVaeScalingFactorKey));
  std::ofstream(dir + "/model/model_index.json")
      << "{\"architecture\": \"" << kStaminaTestTiny << "\", \""
      << kVaeScalingFactorKey << "\": \"-3\"}\n";
  EXPECT_THAT(LoadDiffusionModel(dir + "/model"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(kVaeScalingFactorKey)));
}

TEST(PretrainingTest, RejectsBadOptions) {
  PretrainingOptions bad = Small(FreshDir("bad"));
  bad.batch_size = 0;
  EXPECT_THAT(RunPretraining(bad), StatusCodeIs(absl::StatusCode::kInvalidArgument));
  bad = Small(FreshDir("bad"));
  bad.architecture = "sdxl";
  EXPECT_THAT(RunPretraining(bad), StatusCodeIs(absl::StatusCode::kNotFound));
}

TEST(BaseModelsTest, TinyV1Constructs) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, CreateBaseModel(kStaminaTinyV1, 1));
  int64_t parameters = 0;
  for (auto* module : std::vector<torch::nn::Module*>{
           model.text_encoder.get(), model.unet.get(), model.vae.get()}) {
    int64_t count = 0;
    for (const auto& p : module->parameters()) count += p.numel();
    std::printf("%s: %lld parameters\n", module->name().c_str(),
                static_cast<long long>(count));
    parameters += count;
  }
  // Shipped in the repository as F16: must stay under 16 MB (10^6 bytes)
  // with room for safetensors headers and the vocabulary (~0.1 MB).
  EXPECT_LT(parameters * 2, 15'500'000);
  EXPECT_EQ(model.vae_scale_factor(), 2);
}

}  // namespace
}  // namespace stamina::core
