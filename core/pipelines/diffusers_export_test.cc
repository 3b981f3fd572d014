#include "core/pipelines/diffusers_export.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/testing/status_matchers.h"
#include "core/io/file_bytes.h"
#include "core/io/state_dict.h"
#include "core/pipelines/base_models.h"
#include "core/pipelines/diffusers_loader.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace stamina::core {
namespace {

using ::stamina::StatusIs;
using ::testing::HasSubstr;

constexpr char kCheckpoint[] = "testdata/diffusers-tiny-sd/checkpoint";

std::string TempDir(const std::string& name) {
  return (std::filesystem::path(std::getenv("TEST_TMPDIR")) / name).string();
}

// The fixture with one concept as a fold leaves it: a token with its own
// embedding row, and changed cross-attention weights.
DiffusionModel TaughtFixture() {
  absl::StatusOr<DiffusionModel> model = LoadDiffusersModel(kCheckpoint);
  EXPECT_TRUE(model.ok()) << model.status();
  absl::StatusOr<int32_t> id = model->tokenizer->AddToken("<sks>");
  EXPECT_TRUE(id.ok()) << id.status();
  torch::NoGradGuard no_grad;
  torch::manual_seed(5);
  model->text_encoder->text_model->embeddings->token_embedding->weight[*id].copy_(
      torch::randn({model->config.text_encoder.hidden_size}));
  for (auto& item : model->unet->named_parameters()) {
    if (item.key().find("attn2.to_k.weight") != std::string::npos) {
      item.value().add_(0.05 * torch::randn_like(item.value()));
    }
  }
  return *std::move(model);
}

TEST(DiffusersExportTest, ReimportedExportDrawsTheSameBytes) {
  DiffusionModel taught = TaughtFixture();
  const std::string dir = TempDir("export");
  STAMINA_ASSERT_OK(SaveDiffusersModel(taught, dir));
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel reloaded, LoadDiffusersModel(dir));
  STAMINA_ASSERT_OK_AND_ASSIGN(int32_t id, reloaded.tokenizer->TokenId("<sks>"));
  EXPECT_EQ(id, 618);
  EXPECT_EQ(reloaded.config.scheduler_class, "PNDMScheduler");
  EXPECT_EQ(reloaded.config.scheduler_fields.at("skip_prk_steps"), "true");
  EXPECT_EQ(reloaded.config.sampling_scheduler.clip_sample,
            taught.config.sampling_scheduler.clip_sample);
  for (auto [ours, theirs] :
       {std::pair{StateDict(*reloaded.unet), StateDict(*taught.unet)},
        std::pair{StateDict(*reloaded.vae), StateDict(*taught.vae)}}) {
    for (const auto& [key, tensor] : ours) {
      EXPECT_TRUE(torch::equal(tensor, theirs.at(key))) << key;
    }
  }
  const TextToImageRequest request{
      .prompt = "a photo of <sks>", .count = 1, .steps = 4, .seed = 11};
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<Image> before, GenerateImages(taught, request));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<Image> after, GenerateImages(reloaded, request));
  EXPECT_EQ(before[0].pixels, after[0].pixels);
  // The token matters: without its row the image differs.
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<Image> plain,
                               GenerateImages(reloaded, {.prompt = "a photo of",
                                                         .count = 1, .steps = 4, .seed = 11}));
  EXPECT_NE(plain[0].pixels, after[0].pixels);
  // The files name the concept token as an added token.
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string added,
                               ReadFileBytes(dir + "/tokenizer/added_tokens.json"));
  EXPECT_EQ(nlohmann::json::parse(added)["<sks>"], 618);
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string text_config,
                               ReadFileBytes(dir + "/text_encoder/config.json"));
  EXPECT_EQ(nlohmann::json::parse(text_config)["vocab_size"], 619);
}

TEST(DiffusersExportTest, HalfPrecisionExportLoadsAsFloat32) {
  DiffusionModel taught = TaughtFixture();
  const std::string dir = TempDir("half");
  STAMINA_ASSERT_OK(SaveDiffusersModel(taught, dir, {.half_precision = true}));
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel reloaded, LoadDiffusersModel(dir));
  const torch::Tensor weight = reloaded.unet->conv_in->weight;
  EXPECT_EQ(weight.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(
      weight, taught.unet->conv_in->weight.to(torch::kFloat16).to(torch::kFloat32)));
}

TEST(DiffusersExportTest, BuiltInWordTokenizerHasNoDiffusersForm) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, CreateBaseModel(kStaminaTestTiny, 1));
  EXPECT_THAT(SaveDiffusersModel(model, TempDir("built-in")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("diffusers form")));
}

}  // namespace
}  // namespace stamina::core
