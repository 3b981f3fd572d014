// CPU-vs-CUDA agreement (requires-gpu: never in CI; tools/gpu/run.sh runs it
// on the GPU machine). Fails, not skips, without a CUDA device: where this
// test is run, a missing GPU is an error.
#include "ATen/Context.h"
#include "common/testing/status_matchers.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "core/pipelines/tiny_model_for_test.h"
#include "core/testing/tiny_flow.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

ComputeOptions Cuda(torch::ScalarType dtype) {
  absl::StatusOr<torch::Device> device = ParseDevice("cuda");
  EXPECT_TRUE(device.ok()) << device.status();
  return {.device = device.ok() ? *device : torch::Device(torch::kCPU), .compute_dtype = dtype};
}

TEST(CudaFlowTest, UNetForwardAgrees) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel cpu, TinyModelForTest(4));
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel cuda, TinyModelForTest(4));
  STAMINA_ASSERT_OK(PlaceModel(cuda, Cuda(torch::kFloat32)));
  torch::manual_seed(1);
  const torch::Tensor sample = torch::randn({2, cpu.config.unet.in_channels, 8, 8});
  const torch::Tensor t = torch::tensor({10, 500}, torch::kLong);
  const torch::Tensor context = torch::randn({2, 77, cpu.config.unet.cross_attention_dim}) * 0.5;
  torch::NoGradGuard no_grad;
  const torch::Tensor want = cpu.unet->forward(sample, t, context);
  const torch::Tensor got = cuda.unet->forward(sample.cuda(), t.cuda(), context.cuda()).cpu();
  EXPECT_LT((got - want).abs().max().item<float>(), 1e-4);
}

TEST(CudaFlowTest, TrainingFoldAndSamplingAgreeWithTheCpuInFp32) {
  // TF32 matmuls would round at 1e-3; the agreement test wants fp32.
  at::globalContext().setAllowTF32CuBLAS(false);
  at::globalContext().setAllowTF32CuDNN(false);
  STAMINA_ASSERT_OK_AND_ASSIGN(
      TinyFlowResult cpu, RunTinyFlow({.device = torch::kCPU, .compute_dtype = torch::kFloat32}));
  STAMINA_ASSERT_OK_AND_ASSIGN(TinyFlowResult cuda, RunTinyFlow(Cuda(torch::kFloat32)));
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_NEAR(cuda.final_losses[i], cpu.final_losses[i], 1e-3 * cpu.final_losses[i]) << i;
  }
  for (const auto& [name, weight] : cpu.folded_weights) {
    EXPECT_LT((weight - cuda.folded_weights.at(name)).abs().max().item<float>(), 1e-4) << name;
  }
  const ImageDifference difference = CompareImages(cpu.sample, cuda.sample);
  EXPECT_LE(difference.max, 2);
  EXPECT_LT(difference.mean, 0.05);
}

TEST(CudaFlowTest, Bf16FlowRunsAndSamplingRepeatsOnTheDevice) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      TinyFlowResult cpu, RunTinyFlow({.device = torch::kCPU, .compute_dtype = torch::kFloat32}));
  STAMINA_ASSERT_OK_AND_ASSIGN(TinyFlowResult bf16, RunTinyFlow(Cuda(torch::kBFloat16)));
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_NEAR(bf16.final_losses[i], cpu.final_losses[i], 0.1 * cpu.final_losses[i]) << i;
  }
  EXPECT_LT(CompareImages(cpu.sample, bf16.sample).mean, 6.0);

  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, TinyModelForTest(4));
  STAMINA_ASSERT_OK(PlaceModel(model, Cuda(torch::kBFloat16)));
  const TextToImageRequest request{.prompt = "a photo of a face", .steps = 8, .seed = 5};
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<Image> first, GenerateImages(model, request));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<Image> second, GenerateImages(model, request));
  EXPECT_EQ(first.front().pixels, second.front().pixels);
}

}  // namespace
}  // namespace stamina::core
