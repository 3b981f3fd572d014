#include "core/pipelines/diffusers_config.h"

#include <string>

#include "common/testing/status_matchers.h"
#include "core/models/autoencoder_kl.h"
#include "core/models/clip_text_model.h"
#include "core/models/unet_2d_condition.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::core {
namespace {

using ::stamina::IsOk;
using ::stamina::StatusIs;
using ::testing::HasSubstr;

// runwayml/stable-diffusion-v1-5's files, as published (values copied).
constexpr char kSd15UNet[] = R"({
  "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.6.0",
  "act_fn": "silu", "attention_head_dim": 8,
  "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": false,
  "cross_attention_dim": 768,
  "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                       "CrossAttnDownBlock2D", "DownBlock2D"],
  "downsample_padding": 1, "flip_sin_to_cos": true, "freq_shift": 0,
  "in_channels": 4, "layers_per_block": 2, "mid_block_scale_factor": 1,
  "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
  "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                     "CrossAttnUpBlock2D"]})";
constexpr char kSd15Vae[] = R"({
  "_class_name": "AutoencoderKL", "_diffusers_version": "0.6.0", "act_fn": "silu",
  "block_out_channels": [128, 256, 512, 512],
  "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D",
                       "DownEncoderBlock2D", "DownEncoderBlock2D"],
  "in_channels": 3, "latent_channels": 4, "layers_per_block": 2,
  "norm_num_groups": 32, "out_channels": 3, "sample_size": 512,
  "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D",
                     "UpDecoderBlock2D"]})";
constexpr char kSd15TextEncoder[] = R"({
  "_name_or_path": "openai/clip-vit-large-patch14", "architectures": ["CLIPTextModel"],
  "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0, "eos_token_id": 2,
  "hidden_act": "quick_gelu", "hidden_size": 768, "initializer_factor": 1.0,
  "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-05,
  "max_position_embeddings": 77, "model_type": "clip_text_model",
  "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1,
  "projection_dim": 768, "torch_dtype": "float32",
  "transformers_version": "4.22.0.dev0", "vocab_size": 49408})";
constexpr char kSd15Scheduler[] = R"({
  "_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", "beta_end": 0.012,
  "beta_schedule": "scaled_linear", "beta_start": 0.00085, "num_train_timesteps": 1000,
  "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1,
  "trained_betas": null, "clip_sample": false})";

int64_t ParameterCount(torch::nn::Module& module) {
  int64_t count = 0;
  for (const torch::Tensor& p : module.parameters()) count += p.numel();
  return count;
}

TEST(DiffusersConfigTest, StableDiffusion15FilesGiveItsParameterCounts) {
  STAMINA_ASSERT_OK_AND_ASSIGN(UNet2DConditionModelConfig unet,
                       ParseDiffusersUNetConfig(kSd15UNet, "unet/config.json"));
  EXPECT_EQ(unet.attention_head_dim, std::vector<int64_t>{8});  // 8 heads
  STAMINA_ASSERT_OK_AND_ASSIGN(UNet2DConditionModel unet_model, CreateUNet2DConditionModel(unet));
  EXPECT_EQ(ParameterCount(*unet_model), 859520964);
  unet_model = nullptr;
  STAMINA_ASSERT_OK_AND_ASSIGN(AutoencoderKLConfig vae,
                       ParseDiffusersVaeConfig(kSd15Vae, "vae/config.json"));
  EXPECT_DOUBLE_EQ(vae.scaling_factor, 0.18215);  // diffusers' default
  STAMINA_ASSERT_OK_AND_ASSIGN(AutoencoderKL vae_model, CreateAutoencoderKL(vae));
  EXPECT_EQ(ParameterCount(*vae_model), 83653863);
  STAMINA_ASSERT_OK_AND_ASSIGN(CLIPTextConfig text,
                       ParseTransformersCLIPTextConfig(kSd15TextEncoder, "text_encoder"));
  STAMINA_ASSERT_OK_AND_ASSIGN(CLIPTextModel text_model, CreateCLIPTextModel(text));
  EXPECT_EQ(ParameterCount(*text_model), 123060480);
}

TEST(DiffusersConfigTest, SchedulerFieldsAsDiffusersFromConfigReadsThem) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusersSchedulerConfig scheduler,
                       ParseDiffusersSchedulerConfig(kSd15Scheduler, "scheduler"));
  EXPECT_EQ(scheduler.class_name, "PNDMScheduler");
  EXPECT_EQ(scheduler.sampling.beta_schedule, "scaled_linear");
  EXPECT_EQ(scheduler.sampling.steps_offset, 1);
  EXPECT_FALSE(scheduler.sampling.clip_sample);
  EXPECT_FALSE(scheduler.sampling.set_alpha_to_one);
  EXPECT_EQ(scheduler.sampling.timestep_spacing, "leading");  // DDIM's default
  EXPECT_EQ(scheduler.sampler_fields.at("skip_prk_steps"), "true");
  EXPECT_DOUBLE_EQ(scheduler.training.beta_end, 0.012);
  // Without clip_sample, DDIM's own default (true) applies, as in diffusers.
  STAMINA_ASSERT_OK_AND_ASSIGN(
      scheduler, ParseDiffusersSchedulerConfig(R"({"_class_name": "PNDMScheduler"})", "s"));
  EXPECT_TRUE(scheduler.sampling.clip_sample);
}

TEST(DiffusersConfigTest, RefusesWhatItDoesNotImplementByName) {
  const std::string unet(kSd15UNet);
  auto with = [&](const std::string& field) {
    return unet.substr(0, unet.size() - 1) + ", " + field + "}";
  };
  for (const std::string& field :
       {std::string(R"("addition_embed_type": "text_time")"),
        std::string(R"("conv_in_kernel": 5)"),
        std::string(R"("transformer_layers_per_block": [1, 2, 10, 10])"),
        std::string(R"("num_attention_heads": 8)"),
        std::string(R"("class_embed_type": "timestep")"),
        std::string(R"("mid_block_type": null)"),
        std::string(R"("some_future_field": 3)")}) {
    const std::string name = field.substr(1, field.find('"', 1) - 1);
    EXPECT_THAT(ParseDiffusersUNetConfig(with(field), "unet/config.json"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("unet/config.json: " + name)))
        << field;
  }
  // Accepted: implemented values, per-block lists of them, unknown nulls.
  for (const std::string& field :
       {std::string(R"("use_linear_projection": true)"),
        std::string(R"("attention_head_dim": [5, 10, 20, 20])"),
        std::string(R"("only_cross_attention": [false, false, false, false])"),
        std::string(R"("some_future_field": null)")}) {
    EXPECT_THAT(ParseDiffusersUNetConfig(with(field), "unet").status(), IsOk()) << field;
  }
  EXPECT_THAT(ParseDiffusersUNetConfig(R"({"sample_size": "64"})", "unet/config.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sample_size")));
  EXPECT_THAT(ParseDiffusersUNetConfig("not json", "unet/config.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unet/config.json")));
  EXPECT_THAT(ParseDiffusersVaeConfig(R"({"latents_mean": [0.1, 0.2]})", "vae/config.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("latents_mean")));
  EXPECT_THAT(
      ParseTransformersCLIPTextConfig(R"({"hidden_act": "relu"})", "text_encoder/config.json"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hidden_act")));
  EXPECT_THAT(ParseDiffusersSchedulerConfig(R"({"_class_name": "MyScheduler"})",
                                            "scheduler/scheduler_config.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("MyScheduler")));
  EXPECT_THAT(ParseDiffusersSchedulerConfig(
                  R"({"_class_name": "DDIMScheduler", "trained_betas": [0.1]})", "s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("trained_betas")));
  EXPECT_THAT(ParseDiffusersSchedulerConfig(
                  R"({"_class_name": "DDIMScheduler", "timestep_spacing": "odd"})", "s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("timestep_spacing")));
  // testdata/fuzz/diffusers_config_fuzz/crash-num_train_timesteps-1e11: this
  // aborted the process (out of memory) before MakeBetas bounded T.
  EXPECT_THAT(ParseDiffusersSchedulerConfig(
                  R"({"_class_name": "DDIMScheduler", "num_train_timesteps": 100000000000,)"
                  R"( "beta_schedule": "squaredcos_cap_v2"})",
                  "s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("num_train_timesteps")));
  EXPECT_THAT(ParseDiffusersModelIndex(R"({"_class_name": "StableDiffusionXLPipeline"})",
                                       "model_index.json"),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("StableDiffusionXLPipeline")));
}

TEST(DiffusersConfigTest, TokenizerConfigInBothSpellingsOfSpecialTokens) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      CLIPTokenizerOptions options,
      ParseCLIPTokenizerConfig(
          R"({"model_max_length": 77, "pad_token": "!", "do_lower_case": true,
              "unk_token": {"__type": "AddedToken", "content": "<|endoftext|>"},
              "bos_token": {"content": "<|startoftext|>"}, "errors": "replace",
              "tokenizer_class": "CLIPTokenizer"})",
          "tokenizer_config.json"));
  EXPECT_EQ(options.max_length, 77);
  EXPECT_EQ(options.pad_token, "!");  // SD 2.x pads with "!"
  EXPECT_EQ(options.unk_token, "<|endoftext|>");
  EXPECT_THAT(ParseCLIPTokenizerConfig(R"({"model_max_length": 1000000000000000019884624838656})",
                                       "tokenizer_config.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("model_max_length")));
  EXPECT_THAT(ParseCLIPTokenizerConfig(R"({"do_lower_case": false})", "t"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("do_lower_case")));
}

}  // namespace
}  // namespace stamina::core
