#include "core/nn/attention.h"

#include <map>
#include <string>
#include <vector>

#include "core/nn/attention_ops.h"
#include "core/testing/module_parameters.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

std::vector<std::string> ParameterNames(const torch::nn::Module& module) {
  std::vector<std::string> names;
  for (const auto& item : module.named_parameters())
    names.push_back(item.key());
  return names;
}

TEST(AttentionTest, CrossAttentionHasDiffusersKeysWithoutQkvBias) {
  AttentionOptions options;
  options.query_dim = 32;
  options.cross_attention_dim = 24;
  options.heads = 4;
  options.dim_head = 8;
  Attention attention(options);

  EXPECT_THAT(ParameterNames(*attention),
              UnorderedElementsAre("to_q.weight", "to_k.weight", "to_v.weight",
                                   "to_out.0.weight", "to_out.0.bias"));
  std::map<std::string, std::vector<int64_t>> shapes =
      ParameterShapes(*attention);
  EXPECT_THAT(shapes["to_k.weight"], ElementsAre(32, 24));
  EXPECT_THAT(shapes["to_out.0.weight"], ElementsAre(32, 32));
}

// Adapters swap attn2.to_k / attn2.to_v in place (replace_module plus the
// member): the key stays the same and forward() uses the replacement.
TEST(AttentionTest, ToVCanBeReplacedUnderTheSameKey) {
  torch::NoGradGuard no_grad;
  AttentionOptions options;
  options.query_dim = 8;
  options.cross_attention_dim = 6;
  options.heads = 2;
  options.dim_head = 4;
  Attention attention(options);
  const torch::Tensor x = torch::randn({1, 3, 8});
  const torch::Tensor context = torch::randn({1, 2, 6});
  const torch::Tensor before = attention(x, context);

  torch::nn::Linear to_v(torch::nn::LinearOptions(6, 8).bias(false));
  to_v->weight.zero_();
  attention->to_v = attention->replace_module("to_v", to_v);

  EXPECT_TRUE(torch::equal(attention->named_parameters()["to_v.weight"],
                           torch::zeros({8, 6})));
  // Zero values: the output is to_out.0's bias alone.
  const torch::Tensor after = attention(x, context);
  EXPECT_FALSE(torch::allclose(before, after));
  EXPECT_TRUE(
      torch::allclose(after, attention->to_out_0->bias.expand({1, 3, 8})));
}

TEST(AttentionTest, CrossAttentionForwardMatchesManualHeads) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  AttentionOptions options;
  options.query_dim = 8;
  options.cross_attention_dim = 6;
  options.heads = 2;
  options.dim_head = 4;
  Attention attention(options);
  const torch::Tensor x = torch::randn({2, 5, 8});
  const torch::Tensor context = torch::randn({2, 3, 6});

  const torch::Tensor out = attention(x, context);

  ASSERT_EQ(out.sizes(), x.sizes());
  // Head 0 uses features 0..3 of q/k/v, head 1 features 4..7.
  const torch::Tensor q = attention->to_q(x);
  const torch::Tensor k = attention->to_k(context);
  const torch::Tensor v = attention->to_v(context);
  std::vector<torch::Tensor> heads;
  for (int64_t h = 0; h < 2; ++h) {
    const auto slice = torch::indexing::Slice(4 * h, 4 * h + 4);
    heads.push_back(ScaledDotProductAttention(q.index({"...", slice}),
                                              k.index({"...", slice}),
                                              v.index({"...", slice})));
  }
  const torch::Tensor expected = attention->to_out_0(torch::cat(heads, -1));
  EXPECT_TRUE(torch::allclose(out, expected, 1e-5, 1e-6));
}

TEST(AttentionTest, SpatialAttentionWithGroupNormAndResidual) {
  torch::NoGradGuard no_grad;
  AttentionOptions options;
  options.query_dim = 16;
  options.heads = 1;
  options.dim_head = 16;
  options.bias = true;
  options.norm_num_groups = 4;
  options.eps = 1e-6;
  options.residual_connection = true;
  Attention attention(options);
  EXPECT_THAT(ParameterNames(*attention),
              UnorderedElementsAre("group_norm.weight", "group_norm.bias",
                                   "to_q.weight", "to_q.bias", "to_k.weight",
                                   "to_k.bias", "to_v.weight", "to_v.bias",
                                   "to_out.0.weight", "to_out.0.bias"));
  // Zero output projection: only the residual remains.
  attention->to_out_0->weight.zero_();
  attention->to_out_0->bias.zero_();
  const torch::Tensor x = torch::randn({2, 16, 3, 5});

  const torch::Tensor out = attention(x);

  EXPECT_TRUE(torch::equal(out, x));
}

TEST(FeedForwardTest, GegluKeysAndShapes) {
  FeedForward ff(16);
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*ff);
  EXPECT_EQ(shapes.size(), 4u);
  EXPECT_THAT(shapes["net.0.proj.weight"], ElementsAre(128, 16));
  EXPECT_THAT(shapes["net.0.proj.bias"], ElementsAre(128));
  EXPECT_THAT(shapes["net.2.weight"], ElementsAre(16, 64));
  EXPECT_THAT(shapes["net.2.bias"], ElementsAre(16));
}

TEST(FeedForwardTest, GegluGatesWithGelu) {
  torch::NoGradGuard no_grad;
  GEGLU geglu(2, 1);
  geglu->proj->weight.copy_(torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}}));
  geglu->proj->bias.zero_();
  const torch::Tensor out = geglu(torch::tensor({{3.0f, 1.0f}}));
  EXPECT_NEAR(out.item<float>(),
              3.0f * torch::gelu(torch::tensor(1.0f)).item<float>(), 1e-6);
}

TEST(BasicTransformerBlockTest, KeysMatchDiffusers) {
  BasicTransformerBlock block(32, 4, 8, 24);
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*block);
  EXPECT_THAT(shapes["norm1.weight"], ElementsAre(32));
  EXPECT_THAT(shapes["attn1.to_k.weight"], ElementsAre(32, 32));
  EXPECT_THAT(shapes["attn2.to_k.weight"], ElementsAre(32, 24));
  EXPECT_THAT(shapes["attn2.to_v.weight"], ElementsAre(32, 24));
  EXPECT_THAT(shapes["norm3.bias"], ElementsAre(32));
  EXPECT_THAT(shapes["ff.net.0.proj.weight"], ElementsAre(256, 32));
  EXPECT_EQ(shapes.count("attn1.to_q.bias"), 0u);
}

TEST(Transformer2DModelTest, ConvProjectionKeysAndResidualShape) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(2);
  Transformer2DModelOptions options;
  options.num_attention_heads = 2;
  options.attention_head_dim = 8;
  options.in_channels = 16;
  options.cross_attention_dim = 12;
  options.norm_num_groups = 4;
  Transformer2DModel model(options);
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*model);
  EXPECT_THAT(shapes["norm.weight"], ElementsAre(16));
  EXPECT_THAT(shapes["proj_in.weight"], ElementsAre(16, 16, 1, 1));
  EXPECT_THAT(shapes["proj_out.weight"], ElementsAre(16, 16, 1, 1));
  EXPECT_THAT(shapes["transformer_blocks.0.attn2.to_k.weight"],
              ElementsAre(16, 12));

  const torch::Tensor x = torch::randn({2, 16, 3, 4});
  const torch::Tensor out = model(x, torch::randn({2, 5, 12}));
  EXPECT_EQ(out.sizes(), x.sizes());
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  // Zeroed proj_out leaves the residual alone.
  model->proj_out_conv->weight.zero_();
  model->proj_out_conv->bias.zero_();
  EXPECT_TRUE(torch::equal(model(x, torch::randn({2, 5, 12})), x));
}

TEST(Transformer2DModelTest, LinearProjectionKeys) {
  Transformer2DModelOptions options;
  options.num_attention_heads = 2;
  options.attention_head_dim = 8;
  options.in_channels = 16;
  options.cross_attention_dim = 12;
  options.norm_num_groups = 4;
  options.use_linear_projection = true;
  Transformer2DModel model(options);
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*model);
  EXPECT_THAT(shapes["proj_in.weight"], ElementsAre(16, 16));
  EXPECT_THAT(shapes["proj_out.weight"], ElementsAre(16, 16));
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({1, 16, 2, 3});
  EXPECT_EQ(model(x, torch::randn({1, 4, 12})).sizes(), x.sizes());
}

}  // namespace
}  // namespace stamina::core
