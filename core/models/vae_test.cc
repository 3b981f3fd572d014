#include "core/models/vae.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/testing/module_parameters.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::ElementsAre;

TEST(VAEBlocksTest, DownEncoderBlockKeysAndAsymmetricDownsample) {
  torch::NoGradGuard no_grad;
  VAEBlockOptions options;
  options.num_layers = 2;
  options.in_channels = 8;
  options.out_channels = 16;
  options.resnet_groups = 4;
  DownEncoderBlock2D block(options);
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*block);
  EXPECT_THAT(shapes["resnets.0.conv_shortcut.weight"],
              ElementsAre(16, 8, 1, 1));
  EXPECT_EQ(shapes.count("resnets.0.time_emb_proj.weight"), 0u);
  EXPECT_THAT(shapes["downsamplers.0.conv.weight"], ElementsAre(16, 16, 3, 3));
  EXPECT_EQ(block(torch::randn({1, 8, 8, 8})).sizes(),
            torch::IntArrayRef({1, 16, 4, 4}));
}

TEST(VAEBlocksTest, MidBlockAttentionIsSingleHeadWithGroupNorm) {
  torch::NoGradGuard no_grad;
  VAEBlockOptions options;
  options.num_layers = 1;
  options.in_channels = 16;
  options.out_channels = 16;
  options.resnet_groups = 4;
  UNetMidBlock2D block(options);
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*block);
  EXPECT_THAT(shapes["attentions.0.group_norm.weight"], ElementsAre(16));
  EXPECT_THAT(shapes["attentions.0.to_q.weight"], ElementsAre(16, 16));
  EXPECT_THAT(shapes["attentions.0.to_k.bias"], ElementsAre(16));
  EXPECT_THAT(shapes["attentions.0.to_out.0.bias"], ElementsAre(16));
  EXPECT_THAT(shapes["resnets.1.norm2.weight"], ElementsAre(16));
  EXPECT_EQ(block->attentions[0]->options().heads, 1);
  EXPECT_EQ(block(torch::randn({2, 16, 3, 5})).sizes(),
            torch::IntArrayRef({2, 16, 3, 5}));
}

TEST(VAEBlocksTest, UpDecoderBlockDoubles) {
  torch::NoGradGuard no_grad;
  VAEBlockOptions options;
  options.num_layers = 3;
  options.in_channels = 16;
  options.out_channels = 8;
  options.resnet_groups = 4;
  UpDecoderBlock2D block(options);
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*block);
  EXPECT_THAT(shapes["resnets.2.conv1.weight"], ElementsAre(8, 8, 3, 3));
  EXPECT_THAT(shapes["upsamplers.0.conv.weight"], ElementsAre(8, 8, 3, 3));
  EXPECT_EQ(block(torch::randn({1, 16, 4, 4})).sizes(),
            torch::IntArrayRef({1, 8, 8, 8}));
}

TEST(DiagonalGaussianDistributionTest, SplitsClampsAndSamples) {
  // Channels 0-1 are the mean, 2-3 the log-variance (one clamped to 20).
  const torch::Tensor parameters =
      torch::tensor({1.0f, -2.0f, std::log(4.0f), 100.0f}).view({1, 4, 1, 1});
  const DiagonalGaussianDistribution posterior(parameters);

  EXPECT_TRUE(torch::equal(posterior.Mode(),
                           torch::tensor({1.0f, -2.0f}).view({1, 2, 1, 1})));
  EXPECT_FLOAT_EQ(posterior.logvar()[0][1][0][0].item<float>(), 20.0f);
  EXPECT_NEAR(posterior.std_dev()[0][0][0][0].item<float>(), 2.0f, 1e-6);

  const torch::Tensor noise = torch::tensor({0.5f, 0.0f}).view({1, 2, 1, 1});
  const torch::Tensor sample = posterior.Sample(noise);
  EXPECT_NEAR(sample[0][0][0][0].item<float>(), 2.0f, 1e-6);
  EXPECT_NEAR(sample[0][1][0][0].item<float>(), -2.0f, 1e-6);
  EXPECT_TRUE(torch::equal(sample, posterior.Sample(noise)));
  EXPECT_THROW(posterior.Sample(torch::zeros({1, 3, 1, 1})), c10::Error);
}

TEST(DiagonalGaussianDistributionTest, KlOfStandardNormalIsZero) {
  const DiagonalGaussianDistribution posterior(torch::zeros({2, 8, 3, 3}));
  const torch::Tensor kl = posterior.Kl();
  EXPECT_EQ(kl.sizes(), torch::IntArrayRef({2}));
  EXPECT_TRUE(torch::allclose(kl, torch::zeros({2})));
  // mean 1, logvar 0: 0.5 * 1 per element.
  const DiagonalGaussianDistribution shifted(
      torch::cat({torch::ones({1, 1, 2, 2}), torch::zeros({1, 1, 2, 2})}, 1));
  EXPECT_NEAR(shifted.Kl().item<float>(), 2.0f, 1e-6);
}

TEST(EncoderDecoderTest, ShapesRoundTrip) {
  torch::NoGradGuard no_grad;
  VAECoderOptions options;
  options.in_channels = 3;
  options.out_channels = 4;
  options.block_out_channels = {16, 32, 32};
  options.layers_per_block = 1;
  options.norm_num_groups = 8;
  Encoder encoder(options);
  options.in_channels = 4;
  options.out_channels = 3;
  Decoder decoder(options);
  EXPECT_THAT(ParameterShapes(*encoder)["conv_out.weight"],
              ElementsAre(8, 32, 3, 3));
  EXPECT_EQ(
      ParameterShapes(*decoder).count("up_blocks.2.upsamplers.0.conv.weight"),
      0u);

  const torch::Tensor moments = encoder(torch::randn({1, 3, 16, 16}));
  EXPECT_EQ(moments.sizes(), torch::IntArrayRef({1, 8, 4, 4}));
  EXPECT_EQ(decoder(torch::randn({1, 4, 4, 4})).sizes(),
            torch::IntArrayRef({1, 3, 16, 16}));
}

}  // namespace
}  // namespace stamina::core
