// The tiny flow on the CPU in fp32 and in bf16 autocast: the device and
// precision plumbing is exercised on every machine, CUDA or not.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/testing/status_matchers.h"
#include "core/testing/tiny_flow.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

TEST(DeviceFlowTest, PlacedOnTheCpuTheFlowIsByteForByteRepeatable) {
  const ComputeOptions cpu{.device = torch::kCPU, .compute_dtype = torch::kFloat32};
  STAMINA_ASSERT_OK_AND_ASSIGN(TinyFlowResult a, RunTinyFlow(cpu));
  STAMINA_ASSERT_OK_AND_ASSIGN(TinyFlowResult b, RunTinyFlow(cpu));
  EXPECT_EQ(a.sample.pixels, b.sample.pixels);
  for (const auto& [name, weight] : a.folded_weights) {
    EXPECT_TRUE(torch::equal(weight, b.folded_weights.at(name))) << name;
  }
}

TEST(DeviceFlowTest, Bf16AutocastStaysCloseToFp32AndKeepsFp32Artifacts) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      TinyFlowResult fp32, RunTinyFlow({.device = torch::kCPU, .compute_dtype = torch::kFloat32}));
  STAMINA_ASSERT_OK_AND_ASSIGN(
      TinyFlowResult bf16, RunTinyFlow({.device = torch::kCPU, .compute_dtype = torch::kBFloat16}));
  ASSERT_EQ(bf16.artifacts.size(), 2u);
  for (const AdapterArtifact& artifact : bf16.artifacts) {
    EXPECT_EQ(artifact.token_row.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(artifact.token_row.device().is_cpu());
    for (const auto& [layer, factors] : artifact.layers) {
      EXPECT_EQ(factors.lora_A.scalar_type(), torch::kFloat32) << layer;
      EXPECT_TRUE(factors.lora_B.device().is_cpu()) << layer;
    }
  }
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(std::isfinite(bf16.final_losses[i]));
    EXPECT_NEAR(bf16.final_losses[i], fp32.final_losses[i], 0.02 * fp32.final_losses[i]) << i;
  }
  // bf16 really computed (the weights differ) but stayed close.
  bool any_different = false;
  float largest = 0;
  for (const auto& [name, weight] : fp32.folded_weights) {
    const torch::Tensor other = bf16.folded_weights.at(name);
    EXPECT_EQ(other.scalar_type(), torch::kFloat32) << name;
    const float difference = (weight - other).abs().max().item<float>();
    EXPECT_LT(difference, 0.01) << name;
    largest = std::max(largest, difference);
    any_different = any_different || !torch::equal(weight, other);
  }
  EXPECT_TRUE(any_different);
  const ImageDifference difference = CompareImages(fp32.sample, bf16.sample);
  std::printf(
      "bf16 vs fp32: losses %.5f/%.5f vs %.5f/%.5f, folded weights max |d| %.2e, "
      "sample max %d mean %.3f\n",
      bf16.final_losses[0], bf16.final_losses[1], fp32.final_losses[0], fp32.final_losses[1],
      largest, difference.max, difference.mean);
  EXPECT_LT(difference.mean, 3.0);
  EXPECT_GT(difference.max, 0);
}

}  // namespace
}  // namespace stamina::core
