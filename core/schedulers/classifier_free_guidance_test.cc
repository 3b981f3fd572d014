#include "core/schedulers/classifier_free_guidance.h"

#include "absl/status/status.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

TEST(GuideTest, Arithmetic) {
  const torch::Tensor uncond = torch::tensor({1.0f, -2.0f});
  const torch::Tensor cond = torch::tensor({3.0f, 0.0f});
  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor guided, Guide(uncond, cond, 7.5));
  EXPECT_TRUE(torch::allclose(guided, torch::tensor({16.0f, 13.0f})));
  STAMINA_ASSERT_OK_AND_ASSIGN(guided, Guide(uncond, cond, 1.0));
  EXPECT_TRUE(torch::allclose(guided, cond));
  STAMINA_ASSERT_OK_AND_ASSIGN(guided, Guide(uncond, cond, 0.0));
  EXPECT_TRUE(torch::allclose(guided, uncond));
}

TEST(GuideTest, MismatchedShapesAreInvalid) {
  EXPECT_THAT(Guide(torch::zeros({2}), torch::zeros({3}), 7.5),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Guide(torch::Tensor(), torch::zeros({3}), 7.5),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace stamina::core
