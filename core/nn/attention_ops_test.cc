#include "core/nn/attention_ops.h"

#include <cmath>

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

// q = [1, 0]; keys [1, 0] and [0, 1]; values [1, 2] and [3, 4]. The scores
// are [1/sqrt(2), 0], so the weights are [e^s, 1] / (e^s + 1).
TEST(ScaledDotProductAttentionTest, MatchesHandComputedExample) {
  const torch::Tensor q = torch::tensor({{1.0f, 0.0f}});
  const torch::Tensor k = torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}});
  const torch::Tensor v = torch::tensor({{1.0f, 2.0f}, {3.0f, 4.0f}});
  const double e = std::exp(1.0 / std::sqrt(2.0));
  const double w0 = e / (e + 1.0);
  const double w1 = 1.0 / (e + 1.0);

  const torch::Tensor out = ScaledDotProductAttention(q, k, v);

  ASSERT_EQ(out.sizes(), torch::IntArrayRef({1, 2}));
  EXPECT_NEAR(out[0][0].item<float>(), w0 * 1.0 + w1 * 3.0, 1e-6);
  EXPECT_NEAR(out[0][1].item<float>(), w0 * 2.0 + w1 * 4.0, 1e-6);
}

TEST(ScaledDotProductAttentionTest, BooleanMaskKeepsTruePositions) {
  const torch::Tensor q = torch::tensor({{1.0f, 0.0f}});
  const torch::Tensor k = torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}});
  const torch::Tensor v = torch::tensor({{1.0f, 2.0f}, {3.0f, 4.0f}});

  const torch::Tensor out =
      ScaledDotProductAttention(q, k, v, torch::tensor({{false, true}}));

  EXPECT_TRUE(torch::allclose(out, torch::tensor({{3.0f, 4.0f}})));
}

TEST(ScaledDotProductAttentionTest, FullyMaskedRowAveragesInsteadOfNaN) {
  const torch::Tensor q = torch::tensor({{1.0f, 0.0f}});
  const torch::Tensor k = torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}});
  const torch::Tensor v = torch::tensor({{1.0f, 2.0f}, {3.0f, 4.0f}});

  const torch::Tensor out =
      ScaledDotProductAttention(q, k, v, torch::tensor({{false, false}}));

  EXPECT_TRUE(torch::allclose(out, torch::tensor({{2.0f, 3.0f}})));
}

// An additive mask of ln(2) on the second key doubles its weight.
TEST(ScaledDotProductAttentionTest, FloatMaskIsAdded) {
  const torch::Tensor q = torch::tensor({{0.0f, 0.0f}});
  const torch::Tensor k = torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}});
  const torch::Tensor v = torch::tensor({{0.0f, 0.0f}, {3.0f, 6.0f}});

  const torch::Tensor out = ScaledDotProductAttention(
      q, k, v, torch::tensor({{0.0f, static_cast<float>(std::log(2.0))}}));

  EXPECT_TRUE(torch::allclose(out, torch::tensor({{2.0f, 4.0f}})));
}

TEST(ScaledDotProductAttentionTest, BatchedHeadsMatchPerHeadComputation) {
  torch::manual_seed(0);
  const torch::Tensor q = torch::randn({2, 3, 5, 4});
  const torch::Tensor k = torch::randn({2, 3, 7, 4});
  const torch::Tensor v = torch::randn({2, 3, 7, 6});

  const torch::Tensor out = ScaledDotProductAttention(q, k, v);

  ASSERT_EQ(out.sizes(), torch::IntArrayRef({2, 3, 5, 6}));
  const torch::Tensor one =
      ScaledDotProductAttention(q[1][2], k[1][2], v[1][2]);
  EXPECT_TRUE(torch::allclose(out[1][2], one, 1e-5, 1e-6));
  const torch::Tensor expected =
      torch::softmax(torch::matmul(q, k.transpose(-2, -1)) / 2.0, -1).matmul(v);
  EXPECT_TRUE(torch::allclose(out, expected, 1e-5, 1e-6));
}

TEST(ScaledDotProductAttentionTest, MismatchedHeadSizesThrow) {
  EXPECT_THROW(
      ScaledDotProductAttention(torch::ones({1, 2, 4}), torch::ones({1, 2, 3}),
                                torch::ones({1, 2, 3})),
      c10::Error);
}

}  // namespace
}  // namespace stamina::core
