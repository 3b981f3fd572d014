#include "core/models/unet_2d_condition.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/testing/status_matchers.h"
#include "core/testing/module_parameters.h"
#include "core/torch_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Builds the full SD 1.5 UNet on the CPU (~3.4 GB of float32), checks its
// size and a sample of diffusers checkpoint keys, then frees it.
TEST(UNet2DConditionModelTest, StableDiffusion15MatchesDiffusersLayout) {
  torch::NoGradGuard no_grad;
  STAMINA_ASSERT_OK_AND_ASSIGN(
      UNet2DConditionModel unet,
      CreateUNet2DConditionModel(
          UNet2DConditionModelConfig::StableDiffusion15()));

  EXPECT_EQ(ParameterCount(*unet), 859520964);
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*unet);
  EXPECT_EQ(shapes.size(), 686u);
  EXPECT_THAT(shapes["conv_in.weight"], ElementsAre(320, 4, 3, 3));
  EXPECT_THAT(shapes["time_embedding.linear_1.weight"], ElementsAre(1280, 320));
  EXPECT_THAT(shapes["time_embedding.linear_2.weight"],
              ElementsAre(1280, 1280));
  EXPECT_THAT(
      shapes
          ["down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"],
      ElementsAre(320, 768));
  EXPECT_THAT(
      shapes
          ["down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"],
      ElementsAre(320, 320));
  EXPECT_THAT(shapes["down_blocks.0.attentions.0.proj_in.weight"],
              ElementsAre(320, 320, 1, 1));
  EXPECT_THAT(shapes["down_blocks.0.downsamplers.0.conv.weight"],
              ElementsAre(320, 320, 3, 3));
  EXPECT_THAT(shapes["down_blocks.1.resnets.0.conv_shortcut.weight"],
              ElementsAre(640, 320, 1, 1));
  EXPECT_THAT(shapes["down_blocks.3.resnets.1.time_emb_proj.weight"],
              ElementsAre(1280, 1280));
  EXPECT_THAT(
      shapes
          ["mid_block.attentions.0.transformer_blocks.0.ff.net.0.proj.weight"],
      ElementsAre(10240, 1280));
  EXPECT_THAT(
      shapes["mid_block.attentions.0.transformer_blocks.0.ff.net.2.weight"],
      ElementsAre(1280, 5120));
  EXPECT_THAT(shapes["mid_block.resnets.1.conv2.weight"],
              ElementsAre(1280, 1280, 3, 3));
  EXPECT_THAT(shapes["up_blocks.0.resnets.0.conv1.weight"],
              ElementsAre(1280, 2560, 3, 3));
  EXPECT_THAT(shapes["up_blocks.0.upsamplers.0.conv.weight"],
              ElementsAre(1280, 1280, 3, 3));
  EXPECT_THAT(shapes["up_blocks.1.resnets.2.conv_shortcut.weight"],
              ElementsAre(1280, 1920, 1, 1));
  EXPECT_THAT(shapes["up_blocks.3.resnets.0.conv1.weight"],
              ElementsAre(320, 960, 3, 3));
  EXPECT_THAT(
      shapes["up_blocks.3.attentions.2.transformer_blocks.0.attn2.to_v.weight"],
      ElementsAre(320, 768));
  EXPECT_THAT(
      shapes
          ["up_blocks.3.attentions.2.transformer_blocks.0.attn2.to_out.0.bias"],
      ElementsAre(320));
  EXPECT_THAT(shapes["conv_norm_out.weight"], ElementsAre(320));
  EXPECT_THAT(shapes["conv_out.weight"], ElementsAre(4, 320, 3, 3));
  EXPECT_EQ(shapes.count("up_blocks.3.upsamplers.0.conv.weight"), 0u);
  EXPECT_EQ(shapes.count("down_blocks.3.attentions.0.norm.weight"), 0u);

  // The full-size graph is wired: a small latent runs through.
  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor out, RunTorch([&] {
                                 return unet(torch::randn({1, 4, 8, 8}),
                                             torch::tensor(999),
                                             torch::randn({1, 77, 768}));
                               }));
  EXPECT_EQ(out.sizes(), torch::IntArrayRef({1, 4, 8, 8}));
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
}

TEST(UNet2DConditionModelTest, TinyForwardShapesFiniteAndDeterministic) {
  torch::NoGradGuard no_grad;
  const UNet2DConditionModelConfig config = UNet2DConditionModelConfig::Tiny();
  torch::manual_seed(7);
  STAMINA_ASSERT_OK_AND_ASSIGN(UNet2DConditionModel unet,
                               CreateUNet2DConditionModel(config));
  torch::manual_seed(7);
  STAMINA_ASSERT_OK_AND_ASSIGN(UNet2DConditionModel again,
                               CreateUNet2DConditionModel(config));
  torch::manual_seed(8);
  const torch::Tensor sample = torch::randn({2, 4, 16, 16});
  const torch::Tensor context = torch::randn({2, 5, 32});
  const torch::Tensor timestep = torch::tensor({10, 900});

  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor out, RunTorch([&] {
                                 return unet(sample, timestep, context);
                               }));

  EXPECT_EQ(out.sizes(), torch::IntArrayRef({2, 4, 16, 16}));
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  EXPECT_TRUE(torch::equal(out, again(sample, timestep, context)));
  EXPECT_TRUE(torch::equal(out, unet(sample, timestep, context)));
  // The timestep and the text both matter.
  EXPECT_FALSE(
      torch::allclose(out, unet(sample, torch::tensor({500, 500}), context)));
  EXPECT_FALSE(torch::allclose(out, unet(sample, timestep, context * 2.0)));
}

TEST(UNet2DConditionModelTest, TinyScalarTimestepAndOddSizes) {
  torch::NoGradGuard no_grad;
  STAMINA_ASSERT_OK_AND_ASSIGN(
      UNet2DConditionModel unet,
      CreateUNet2DConditionModel(UNet2DConditionModelConfig::Tiny()));
  // 10 → 5 → 3 on the way down; the up blocks follow the skip sizes back.
  const torch::Tensor sample = torch::randn({1, 4, 10, 10});
  STAMINA_ASSERT_OK_AND_ASSIGN(
      torch::Tensor out, RunTorch([&] {
        return unet(sample, torch::tensor(999.0), torch::randn({1, 3, 32}));
      }));
  EXPECT_EQ(out.sizes(), torch::IntArrayRef({1, 4, 10, 10}));
}

TEST(UNet2DConditionModelTest, ShapeErrorsBecomeStatus) {
  torch::NoGradGuard no_grad;
  STAMINA_ASSERT_OK_AND_ASSIGN(
      UNet2DConditionModel unet,
      CreateUNet2DConditionModel(UNet2DConditionModelConfig::Tiny()));
  EXPECT_THAT(RunTorch([&] {
                return unet(torch::randn({1, 4, 8, 8}), torch::tensor(1),
                            torch::randn({1, 3, 31}));
              }),
              StatusCodeIs(absl::StatusCode::kInternal));
}

TEST(UNet2DConditionModelTest, InvalidConfigsAreRejected) {
  UNet2DConditionModelConfig config = UNet2DConditionModelConfig::Tiny();
  config.up_block_types.pop_back();
  EXPECT_THAT(CreateUNet2DConditionModel(config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("up_block_types")));

  config = UNet2DConditionModelConfig::Tiny();
  config.down_block_types[0] = "SimpleCrossAttnDownBlock2D";
  EXPECT_THAT(CreateUNet2DConditionModel(config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("SimpleCrossAttnDownBlock2D")));

  config = UNet2DConditionModelConfig::Tiny();
  config.attention_head_dim = {3};
  EXPECT_THAT(CreateUNet2DConditionModel(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("heads")));

  config = UNet2DConditionModelConfig::Tiny();
  config.block_out_channels[1] = 60;
  EXPECT_THAT(CreateUNet2DConditionModel(config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("norm_num_groups")));
}

}  // namespace
}  // namespace stamina::core
