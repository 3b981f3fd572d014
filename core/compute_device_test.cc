#include "core/compute_device.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/cuda.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::HasSubstr;

TEST(ComputeDeviceTest, ParsesTheCpuAndAutoPicksWhatExists) {
  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Device cpu, ParseDevice("cpu"));
  EXPECT_TRUE(cpu.is_cpu());
  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Device automatic, ParseDevice("auto"));
  EXPECT_EQ(automatic.is_cuda(), torch::cuda::is_available());
  EXPECT_EQ(DeviceName(cpu), "cpu");
}

TEST(ComputeDeviceTest, RejectsMalformedDevicesNamingTheFlag) {
  for (const char* spec : {"", "gpu", "cuda:", "cuda:x", "cuda:-1", "cuda:1:2", "CPU"}) {
    EXPECT_THAT(ParseDevice(spec),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("device:")))
        << spec;
  }
}

TEST(ComputeDeviceTest, CudaWithoutADeviceIsAFailedPrecondition) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "this LibTorch sees a CUDA device";
  EXPECT_THAT(ParseDevice("cuda"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no CUDA device")));
  EXPECT_THAT(ParseDevice("cuda:3"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("device:")));
}

TEST(ComputeDeviceTest, ParsesDtypesAndRefusesFp16OnTheCpu) {
  STAMINA_ASSERT_OK_AND_ASSIGN(ComputeOptions fp32, ParseComputeOptions("cpu", "fp32"));
  EXPECT_EQ(fp32.compute_dtype, torch::kFloat32);
  STAMINA_ASSERT_OK_AND_ASSIGN(ComputeOptions bf16, ParseComputeOptions("cpu", "bf16"));
  EXPECT_EQ(bf16.compute_dtype, torch::kBFloat16);
  EXPECT_EQ(ComputeDtypeName(bf16.compute_dtype), "bf16");
  EXPECT_THAT(ParseComputeOptions("cpu", "fp16"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("compute_dtype: fp16")));
  STAMINA_ASSERT_OK_AND_ASSIGN(ComputeOptions automatic, ParseComputeOptions("cpu", "auto"));
  EXPECT_EQ(automatic.compute_dtype, torch::kFloat32);
  EXPECT_THAT(ParseComputeOptions("cpu", "float32"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("compute_dtype:")));
}

TEST(ComputeDeviceTest, ListsTheCpuFirst) {
  const std::vector<DeviceInfo> devices = AvailableDevices();
  ASSERT_FALSE(devices.empty());
  EXPECT_EQ(devices.front().name, "cpu");
  EXPECT_EQ(devices.size(), 1 + (torch::cuda::is_available() ? torch::cuda::device_count() : 0));
}

// bf16 autocast really computes a linear layer in bf16 inside the scope (the
// weights stay fp32), and everything is as before outside it, nested or not.
TEST(ComputeDeviceTest, AutocastScopeComputesInTheDtypeAndRestores) {
  torch::manual_seed(7);
  torch::nn::Linear linear(16, 8);
  const torch::Tensor x = torch::randn({4, 16});
  const torch::Tensor before = linear(x);
  EXPECT_EQ(before.scalar_type(), torch::kFloat32);
  {
    AutocastScope outer({.device = torch::kCPU, .compute_dtype = torch::kBFloat16});
    EXPECT_TRUE(outer.active());
    {
      AutocastScope inner({.device = torch::kCPU, .compute_dtype = torch::kBFloat16});
      EXPECT_EQ(linear(x).scalar_type(), torch::kBFloat16);
    }
    const torch::Tensor inside = linear(x);
    EXPECT_EQ(inside.scalar_type(), torch::kBFloat16);
    EXPECT_EQ(linear->weight.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(torch::allclose(inside.to(torch::kFloat32), before, 0.05, 0.05));
    EXPECT_FALSE(torch::equal(inside.to(torch::kFloat32), before));
  }
  EXPECT_EQ(linear(x).scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(linear(x), before));
}

TEST(ComputeDeviceTest, Fp32ScopeChangesNothing) {
  AutocastScope scope({});
  EXPECT_FALSE(scope.active());
  torch::nn::Linear linear(4, 4);
  EXPECT_EQ(linear(torch::ones({1, 4})).scalar_type(), torch::kFloat32);
}

}  // namespace
}  // namespace stamina::core
