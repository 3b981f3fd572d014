#include "worker/torch_setup.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "worker/model_builder.h"

namespace stamina::worker {
namespace {

using ::testing::HasSubstr;

TEST(TorchSetupTest, NamesTheDeviceAndTheComputeDtype) {
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string line,
                               SetUpTorch(1, {.device = "cpu", .compute_dtype = "bf16"}));
  EXPECT_THAT(line, HasSubstr("device cpu ("));
  EXPECT_THAT(line, HasSubstr("compute bf16"));
}

TEST(TorchSetupTest, ABadDeviceFailsAtStartUpNamingTheFlag) {
  EXPECT_THAT(SetUpTorch(1, {.device = "gpu", .compute_dtype = "auto"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("device:")));
  EXPECT_THAT(SetUpTorch(1, {.device = "cpu", .compute_dtype = "fp8"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("compute_dtype:")));
}

TEST(TorchSetupTest, TheLibraryPlacesWhatItLoads) {
  const ResolvedBaseModel tiny{.id = "stamina-test-tiny", .random_seed = 3, .digest = "d"};
  EXPECT_THAT(BaseModelLibrary::Create({tiny}, {.device = "cuda:7"}).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("device:")));
  STAMINA_ASSERT_OK_AND_ASSIGN(
      auto library, BaseModelLibrary::Create({tiny}, {.device = "cpu", .compute_dtype = "bf16"}));
  STAMINA_ASSERT_OK_AND_ASSIGN(core::DiffusionModel model, library->Load("stamina-test-tiny", ""));
  EXPECT_TRUE(model.compute.device.is_cpu());
  EXPECT_EQ(model.compute.compute_dtype, torch::kBFloat16);
}

}  // namespace
}  // namespace stamina::worker
