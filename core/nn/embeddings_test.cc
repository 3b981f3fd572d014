#include "core/nn/embeddings.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::ElementsAre;

// embedding_dim 4, shift 0: frequencies exp(-ln(10000) * i / 2) = {1, 0.01};
// flip_sin_to_cos puts the cosines first.
TEST(GetTimestepEmbeddingTest, MatchesClosedForm) {
  const torch::Tensor t = torch::tensor({0.0f, 3.0f});
  const torch::Tensor emb = GetTimestepEmbedding(t, 4, true, 0.0);
  ASSERT_EQ(emb.sizes(), torch::IntArrayRef({2, 4}));
  const torch::Tensor expected = torch::tensor(
      {{1.0f, 1.0f, 0.0f, 0.0f},
       {static_cast<float>(std::cos(3.0)), static_cast<float>(std::cos(0.03)),
        static_cast<float>(std::sin(3.0)),
        static_cast<float>(std::sin(0.03))}});
  EXPECT_TRUE(torch::allclose(emb, expected, 1e-5, 1e-6));

  const torch::Tensor unflipped = GetTimestepEmbedding(t, 4, false, 0.0);
  EXPECT_TRUE(torch::allclose(
      unflipped, torch::cat({expected.slice(1, 2), expected.slice(1, 0, 2)}, 1),
      1e-5, 1e-6));
}

TEST(GetTimestepEmbeddingTest, FreqShiftAndOddDimension) {
  // shift 1 with half_dim 2: frequencies exp(-ln(10000) * i / 1) = {1, 1e-4}.
  const torch::Tensor emb =
      GetTimestepEmbedding(torch::tensor({2.0f}), 5, true, 1.0);
  ASSERT_EQ(emb.sizes(), torch::IntArrayRef({1, 5}));
  EXPECT_NEAR(emb[0][1].item<float>(), std::cos(2e-4), 1e-6);
  EXPECT_NEAR(emb[0][2].item<float>(), std::sin(2.0), 1e-6);
  EXPECT_EQ(emb[0][4].item<float>(), 0.0f);
}

TEST(TimestepEmbeddingTest, KeysAndShapes) {
  TimestepEmbedding embedding(32, 128);
  std::vector<std::string> names;
  for (const auto& item : embedding->named_parameters()) {
    names.push_back(item.key());
  }
  EXPECT_THAT(names, ElementsAre("linear_1.weight", "linear_1.bias",
                                 "linear_2.weight", "linear_2.bias"));
  EXPECT_THAT(embedding->linear_1->weight.sizes().vec(), ElementsAre(128, 32));

  torch::NoGradGuard no_grad;
  Timesteps proj(32, true, 0.0);
  EXPECT_TRUE(proj->parameters().empty());
  const torch::Tensor out = embedding(proj(torch::tensor({1, 500, 999})));
  EXPECT_EQ(out.sizes(), torch::IntArrayRef({3, 128}));
}

}  // namespace
}  // namespace stamina::core
