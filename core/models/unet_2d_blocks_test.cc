#include "core/models/unet_2d_blocks.h"

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

UNetBlockOptions SmallOptions() {
  UNetBlockOptions options;
  options.num_layers = 2;
  options.in_channels = 8;
  options.out_channels = 16;
  options.temb_channels = 32;
  options.resnet_groups = 4;
  options.cross_attention_dim = 12;
  options.num_attention_heads = 2;
  return options;
}

TEST(CrossAttnDownBlock2DTest, KeysSkipsAndShapes) {
  torch::NoGradGuard no_grad;
  CrossAttnDownBlock2D block(SmallOptions());
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*block);
  EXPECT_THAT(shapes["resnets.0.conv1.weight"], ElementsAre(16, 8, 3, 3));
  EXPECT_THAT(shapes["resnets.0.conv_shortcut.weight"],
              ElementsAre(16, 8, 1, 1));
  EXPECT_EQ(shapes.count("resnets.1.conv_shortcut.weight"), 0u);
  EXPECT_THAT(shapes["attentions.1.transformer_blocks.0.attn2.to_v.weight"],
              ElementsAre(16, 12));
  EXPECT_THAT(shapes["downsamplers.0.conv.weight"], ElementsAre(16, 16, 3, 3));

  DownBlockOutput out = block(torch::randn({2, 8, 8, 8}), torch::randn({2, 32}),
                              torch::randn({2, 3, 12}));
  EXPECT_EQ(out.hidden_states.sizes(), torch::IntArrayRef({2, 16, 4, 4}));
  ASSERT_EQ(out.res_samples.size(), 3u);
  EXPECT_EQ(out.res_samples[1].sizes(), torch::IntArrayRef({2, 16, 8, 8}));
  EXPECT_TRUE(torch::equal(out.res_samples[2], out.hidden_states));
}

TEST(DownBlock2DTest, LastBlockHasNoDownsampler) {
  torch::NoGradGuard no_grad;
  UNetBlockOptions options = SmallOptions();
  options.add_sampler = false;
  DownBlock2D block(options);
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*block);
  EXPECT_EQ(shapes.count("downsamplers.0.conv.weight"), 0u);
  EXPECT_THAT(shapes["resnets.1.time_emb_proj.weight"], ElementsAre(16, 32));
  DownBlockOutput out =
      block(torch::randn({1, 8, 4, 4}), torch::randn({1, 32}));
  EXPECT_EQ(out.hidden_states.sizes(), torch::IntArrayRef({1, 16, 4, 4}));
  EXPECT_EQ(out.res_samples.size(), 2u);
}

TEST(UNetMidBlock2DCrossAttnTest, TwoResnetsOneAttention) {
  torch::NoGradGuard no_grad;
  UNetBlockOptions options = SmallOptions();
  options.num_layers = 1;
  options.in_channels = 16;
  UNetMidBlock2DCrossAttn block(options);
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*block);
  EXPECT_THAT(shapes["resnets.1.conv2.weight"], ElementsAre(16, 16, 3, 3));
  EXPECT_EQ(shapes.count("resnets.2.conv2.weight"), 0u);
  EXPECT_THAT(shapes["attentions.0.proj_in.weight"], ElementsAre(16, 16, 1, 1));
  EXPECT_EQ(shapes.count("attentions.1.proj_in.weight"), 0u);
  const torch::Tensor out =
      block(torch::randn({1, 16, 4, 4}), torch::randn({1, 32}),
            torch::randn({1, 3, 12}));
  EXPECT_EQ(out.sizes(), torch::IntArrayRef({1, 16, 4, 4}));
}

TEST(CrossAttnUpBlock2DTest, ConcatenatesSkipsAndUpsamples) {
  torch::NoGradGuard no_grad;
  UNetBlockOptions options = SmallOptions();
  options.num_layers = 3;
  options.in_channels = 8;  // channels of the deepest skip it consumes
  options.out_channels = 16;
  options.prev_output_channel = 24;
  CrossAttnUpBlock2D block(options);
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*block);
  // resnet 0: prev 24 + skip 16; resnet 2: 16 + in 8.
  EXPECT_THAT(shapes["resnets.0.conv1.weight"], ElementsAre(16, 40, 3, 3));
  EXPECT_THAT(shapes["resnets.2.conv1.weight"], ElementsAre(16, 24, 3, 3));
  EXPECT_THAT(shapes["upsamplers.0.conv.weight"], ElementsAre(16, 16, 3, 3));

  const std::vector<torch::Tensor> skips = {torch::randn({1, 8, 4, 4}),
                                            torch::randn({1, 16, 4, 4}),
                                            torch::randn({1, 16, 4, 4})};
  const torch::Tensor out =
      block(torch::randn({1, 24, 4, 4}), skips, torch::randn({1, 32}),
            torch::randn({1, 3, 12}), std::vector<int64_t>{});
  EXPECT_EQ(out.sizes(), torch::IntArrayRef({1, 16, 8, 8}));
  EXPECT_THROW(
      block(torch::randn({1, 24, 4, 4}), std::vector<torch::Tensor>{skips[0]},
            torch::randn({1, 32}), torch::randn({1, 3, 12}),
            std::vector<int64_t>{}),
      c10::Error);
}

TEST(UpBlock2DTest, FollowsUpsampleSize) {
  torch::NoGradGuard no_grad;
  UNetBlockOptions options = SmallOptions();
  options.num_layers = 2;
  options.in_channels = 16;
  options.prev_output_channel = 16;
  UpBlock2D block(options);
  EXPECT_EQ(ParameterShapes(*block).count("attentions.0.norm.weight"), 0u);
  const std::vector<torch::Tensor> skips = {torch::randn({1, 16, 3, 3}),
                                            torch::randn({1, 16, 3, 3})};
  const torch::Tensor out =
      block(torch::randn({1, 16, 3, 3}), skips, torch::randn({1, 32}),
            std::vector<int64_t>{5, 5});
  EXPECT_EQ(out.sizes(), torch::IntArrayRef({1, 16, 5, 5}));
}

}  // namespace
}  // namespace stamina::core
