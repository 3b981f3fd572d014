#include "core/models/autoencoder_kl.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/testing/status_matchers.h"
#include "core/models/vae.h"
#include "core/testing/module_parameters.h"
#include "core/torch_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(AutoencoderKLTest, StableDiffusion15MatchesDiffusersLayout) {
  torch::NoGradGuard no_grad;
  const AutoencoderKLConfig config = AutoencoderKLConfig::StableDiffusion15();
  EXPECT_DOUBLE_EQ(config.scaling_factor, 0.18215);
  STAMINA_ASSERT_OK_AND_ASSIGN(AutoencoderKL vae, CreateAutoencoderKL(config));

  EXPECT_EQ(ParameterCount(*vae), 83653863);
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*vae);
  EXPECT_THAT(shapes["encoder.conv_in.weight"], ElementsAre(128, 3, 3, 3));
  EXPECT_THAT(shapes["encoder.down_blocks.0.resnets.0.norm1.weight"],
              ElementsAre(128));
  EXPECT_THAT(shapes["encoder.down_blocks.0.downsamplers.0.conv.weight"],
              ElementsAre(128, 128, 3, 3));
  EXPECT_THAT(shapes["encoder.down_blocks.1.resnets.0.conv_shortcut.weight"],
              ElementsAre(256, 128, 1, 1));
  EXPECT_THAT(shapes["encoder.mid_block.attentions.0.group_norm.weight"],
              ElementsAre(512));
  EXPECT_THAT(shapes["encoder.mid_block.attentions.0.to_q.weight"],
              ElementsAre(512, 512));
  EXPECT_THAT(shapes["encoder.mid_block.attentions.0.to_q.bias"],
              ElementsAre(512));
  EXPECT_THAT(shapes["encoder.mid_block.attentions.0.to_out.0.weight"],
              ElementsAre(512, 512));
  EXPECT_THAT(shapes["encoder.mid_block.resnets.1.conv2.weight"],
              ElementsAre(512, 512, 3, 3));
  EXPECT_THAT(shapes["encoder.conv_norm_out.weight"], ElementsAre(512));
  EXPECT_THAT(shapes["encoder.conv_out.weight"], ElementsAre(8, 512, 3, 3));
  EXPECT_THAT(shapes["quant_conv.weight"], ElementsAre(8, 8, 1, 1));
  EXPECT_THAT(shapes["post_quant_conv.weight"], ElementsAre(4, 4, 1, 1));
  EXPECT_THAT(shapes["decoder.conv_in.weight"], ElementsAre(512, 4, 3, 3));
  EXPECT_THAT(shapes["decoder.mid_block.attentions.0.to_v.weight"],
              ElementsAre(512, 512));
  EXPECT_THAT(shapes["decoder.up_blocks.0.upsamplers.0.conv.weight"],
              ElementsAre(512, 512, 3, 3));
  EXPECT_THAT(shapes["decoder.up_blocks.2.resnets.0.conv_shortcut.weight"],
              ElementsAre(256, 512, 1, 1));
  EXPECT_THAT(shapes["decoder.up_blocks.3.resnets.2.conv2.weight"],
              ElementsAre(128, 128, 3, 3));
  EXPECT_THAT(shapes["decoder.conv_norm_out.weight"], ElementsAre(128));
  EXPECT_THAT(shapes["decoder.conv_out.weight"], ElementsAre(3, 128, 3, 3));
  EXPECT_EQ(shapes.count("decoder.up_blocks.3.upsamplers.0.conv.weight"), 0u);
  EXPECT_EQ(shapes.count("encoder.down_blocks.3.downsamplers.0.conv.weight"),
            0u);

  // The full-size graph is wired: 32x32 pixels ↔ 4x4 latents.
  STAMINA_ASSERT_OK_AND_ASSIGN(
      DiagonalGaussianDistribution posterior, RunTorch([&] {
        return vae->Encode(torch::randn({1, 3, 32, 32}));
      }));
  EXPECT_EQ(posterior.mean().sizes(), torch::IntArrayRef({1, 4, 4, 4}));
  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor image, RunTorch([&] {
                                 return vae->Decode(posterior.Mode());
                               }));
  EXPECT_EQ(image.sizes(), torch::IntArrayRef({1, 3, 32, 32}));
  EXPECT_TRUE(torch::isfinite(image).all().item<bool>());
}

TEST(AutoencoderKLTest, TinyEncodeDecodeShapesFiniteAndDeterministic) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(5);
  STAMINA_ASSERT_OK_AND_ASSIGN(
      AutoencoderKL vae, CreateAutoencoderKL(AutoencoderKLConfig::Tiny()));
  torch::manual_seed(5);
  STAMINA_ASSERT_OK_AND_ASSIGN(
      AutoencoderKL again, CreateAutoencoderKL(AutoencoderKLConfig::Tiny()));
  const torch::Tensor image = torch::rand({2, 3, 32, 32}) * 2.0 - 1.0;

  STAMINA_ASSERT_OK_AND_ASSIGN(DiagonalGaussianDistribution posterior,
                               RunTorch([&] { return vae->Encode(image); }));
  EXPECT_EQ(posterior.mean().sizes(), torch::IntArrayRef({2, 4, 16, 16}));
  EXPECT_TRUE(torch::equal(posterior.mean(), again->Encode(image).mean()));

  // Seeded noise from the caller gives the same latents every time.
  const torch::Tensor noise =
      torch::randn({2, 4, 16, 16}, torch::TensorOptions().dtype(torch::kFloat));
  const torch::Tensor latents = posterior.Sample(noise);
  EXPECT_TRUE(torch::equal(latents, vae->Encode(image).Sample(noise)));

  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor decoded,
                               RunTorch([&] { return vae->Decode(latents); }));
  EXPECT_EQ(decoded.sizes(), image.sizes());
  EXPECT_TRUE(torch::isfinite(decoded).all().item<bool>());
  EXPECT_TRUE(torch::equal(decoded, again->Decode(latents)));
  EXPECT_EQ(vae(image).sizes(), image.sizes());
}

TEST(AutoencoderKLTest, BadInputsAndConfigsBecomeStatus) {
  torch::NoGradGuard no_grad;
  STAMINA_ASSERT_OK_AND_ASSIGN(
      AutoencoderKL vae, CreateAutoencoderKL(AutoencoderKLConfig::Tiny()));
  EXPECT_THAT(RunTorch([&] {
                return vae->Decode(torch::randn({1, 3, 4, 4}));
              }),
              StatusCodeIs(absl::StatusCode::kInternal));

  AutoencoderKLConfig config = AutoencoderKLConfig::Tiny();
  config.down_block_types[0] = "AttnDownEncoderBlock2D";
  EXPECT_THAT(CreateAutoencoderKL(config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("AttnDownEncoderBlock2D")));
  config = AutoencoderKLConfig::Tiny();
  config.block_out_channels = {32, 60};
  EXPECT_THAT(CreateAutoencoderKL(config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("norm_num_groups")));
  config = AutoencoderKLConfig::Tiny();
  config.up_block_types.push_back("UpDecoderBlock2D");
  EXPECT_THAT(CreateAutoencoderKL(config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("up_block_types")));
}

}  // namespace
}  // namespace stamina::core
