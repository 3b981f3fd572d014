#include "core/nn/resnet.h"

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

TEST(ResnetBlock2DTest, ChannelChangeAddsShortcutAndTimeProjection) {
  ResnetBlock2DOptions options;
  options.in_channels = 8;
  options.out_channels = 16;
  options.temb_channels = 12;
  options.groups = 4;
  ResnetBlock2D block(options);
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*block);
  EXPECT_EQ(shapes.size(), 12u);
  EXPECT_THAT(shapes["norm1.weight"], ElementsAre(8));
  EXPECT_THAT(shapes["conv1.weight"], ElementsAre(16, 8, 3, 3));
  EXPECT_THAT(shapes["time_emb_proj.weight"], ElementsAre(16, 12));
  EXPECT_THAT(shapes["norm2.bias"], ElementsAre(16));
  EXPECT_THAT(shapes["conv2.weight"], ElementsAre(16, 16, 3, 3));
  EXPECT_THAT(shapes["conv_shortcut.weight"], ElementsAre(16, 8, 1, 1));

  torch::NoGradGuard no_grad;
  const torch::Tensor out =
      block(torch::randn({2, 8, 5, 6}), torch::randn({2, 12}));
  EXPECT_EQ(out.sizes(), torch::IntArrayRef({2, 16, 5, 6}));
}

TEST(ResnetBlock2DTest, NoTimeEmbeddingAndSameChannelsIsResidual) {
  ResnetBlock2DOptions options;
  options.in_channels = 8;
  options.temb_channels = 0;
  options.groups = 4;
  ResnetBlock2D block(options);
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*block);
  EXPECT_EQ(shapes.count("time_emb_proj.weight"), 0u);
  EXPECT_EQ(shapes.count("conv_shortcut.weight"), 0u);

  torch::NoGradGuard no_grad;
  block->conv2->weight.zero_();
  block->conv2->bias.zero_();
  const torch::Tensor x = torch::randn({1, 8, 4, 4});
  EXPECT_TRUE(torch::equal(block(x), x));
}

TEST(Downsample2DTest, HalvesWithBothPaddings) {
  torch::NoGradGuard no_grad;
  Downsample2D unet_style(4, 4, 1);
  Downsample2D vae_style(4, 4, 0);
  EXPECT_THAT(unet_style->conv->weight.sizes().vec(), ElementsAre(4, 4, 3, 3));
  const torch::Tensor x = torch::randn({1, 4, 8, 8});
  EXPECT_EQ(unet_style(x).sizes(), torch::IntArrayRef({1, 4, 4, 4}));
  EXPECT_EQ(vae_style(x).sizes(), torch::IntArrayRef({1, 4, 4, 4}));
  EXPECT_EQ(unet_style(torch::randn({1, 4, 5, 5})).sizes(),
            torch::IntArrayRef({1, 4, 3, 3}));
}

TEST(Downsample2DTest, ZeroPaddingPadsRightAndBottomOnly) {
  torch::NoGradGuard no_grad;
  Downsample2D down(1, 1, 0);
  // A kernel that picks the top-left tap reads x[2i][2j].
  down->conv->weight.zero_();
  down->conv->weight[0][0][0][0] = 1.0f;
  down->conv->bias.zero_();
  const torch::Tensor x = torch::arange(16, torch::kFloat).view({1, 1, 4, 4});
  const torch::Tensor out = down(x);
  EXPECT_TRUE(torch::equal(
      out, torch::tensor({0.0f, 2.0f, 8.0f, 10.0f}).view({1, 1, 2, 2})));
}

TEST(Upsample2DTest, DoublesOrFollowsOutputSize) {
  torch::NoGradGuard no_grad;
  Upsample2D up(4, 4);
  const torch::Tensor x = torch::randn({1, 4, 3, 3});
  EXPECT_EQ(up(x).sizes(), torch::IntArrayRef({1, 4, 6, 6}));
  EXPECT_EQ(up->forward(x, {5, 5}).sizes(), torch::IntArrayRef({1, 4, 5, 5}));
}

}  // namespace
}  // namespace stamina::core
