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

// Query blocks of 3 rows (a limit of 3 x Lk scores per block, 4 blocks for
// 10 queries) give what one block gives, with masks that have a query
// dimension and masks that broadcast over it, and gradients still reach
// every input.
TEST(ScaledDotProductAttentionTest, QueryBlocksMatchOneBlock) {
  torch::manual_seed(3);
  const torch::Tensor q = torch::randn({10, 4}).requires_grad_(true);
  const torch::Tensor k = torch::randn({7, 4}).requires_grad_(true);
  const torch::Tensor v = torch::randn({7, 5});
  const torch::Tensor row_mask = torch::rand({10, 7}) > 0.3;
  const torch::Tensor key_mask = torch::randn({1, 7});

  for (const torch::Tensor& mask : {torch::Tensor(), row_mask, key_mask}) {
    const torch::Tensor whole = ScaledDotProductAttention(q, k, v, mask, 1 << 20);
    const torch::Tensor blocked = ScaledDotProductAttention(q, k, v, mask, 3 * 7);
    EXPECT_TRUE(torch::allclose(whole, blocked, 1e-5, 1e-6));
  }
  ScaledDotProductAttention(q, k, v, {}, 7).sum().backward();
  EXPECT_TRUE(q.grad().defined());
  EXPECT_GT(q.grad().abs().sum().item<float>(), 0.0f);
  EXPECT_GT(k.grad().abs().sum().item<float>(), 0.0f);
}

// With heads, the limit counts every head's scores: 2 x 3 heads of 4 keys is
// 24 scores per query row, so a limit of 50 gives blocks of 2 rows.
TEST(ScaledDotProductAttentionTest, BlocksCountLeadingDimensions) {
  torch::manual_seed(4);
  const torch::Tensor q = torch::randn({2, 3, 9, 8});
  const torch::Tensor k = torch::randn({2, 3, 4, 8});
  const torch::Tensor v = torch::randn({2, 3, 4, 8});

  EXPECT_TRUE(torch::allclose(ScaledDotProductAttention(q, k, v),
                              ScaledDotProductAttention(q, k, v, {}, 50), 1e-5, 1e-6));
  // Below one row's scores, blocks are single rows.
  EXPECT_TRUE(torch::allclose(ScaledDotProductAttention(q, k, v),
                              ScaledDotProductAttention(q, k, v, {}, 1), 1e-5, 1e-6));
}

TEST(ScaledDotProductAttentionTest, MismatchedHeadSizesThrow) {
  EXPECT_THROW(
      ScaledDotProductAttention(torch::ones({1, 2, 4}), torch::ones({1, 2, 3}),
                                torch::ones({1, 2, 3})),
      c10::Error);
}

}  // namespace
}  // namespace stamina::core
