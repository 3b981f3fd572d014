#include "core/torch_runtime.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

TEST(TorchRuntimeTest, DefaultsToEveryAvailableCore) {
  STAMINA_ASSERT_OK_AND_ASSIGN(TorchRuntimeInfo info,
                               ConfigureTorchRuntime({}));
  EXPECT_EQ(info.available_cores, AvailableCores());
  EXPECT_EQ(info.threads, AvailableCores());
  EXPECT_EQ(at::get_num_threads(), AvailableCores());
}

TEST(TorchRuntimeTest, HonoursAnExplicitThreadCount) {
  STAMINA_ASSERT_OK_AND_ASSIGN(TorchRuntimeInfo info,
                               ConfigureTorchRuntime({.threads = 1}));
  EXPECT_EQ(info.threads, 1);
  EXPECT_EQ(at::get_num_threads(), 1);
}

TEST(TorchRuntimeTest, RejectsNegativeThreads) {
  EXPECT_THAT(ConfigureTorchRuntime({.threads = -2}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("threads")));
}

// `./stamina.sh setup` installs libopenblas0-openmp, which Debian's LibTorch
// then loads instead of the reference BLAS (17x slower matmul).
TEST(TorchRuntimeTest, FindsAnOptimizedBlas) {
  STAMINA_ASSERT_OK_AND_ASSIGN(TorchRuntimeInfo info,
                               ConfigureTorchRuntime({}));
  EXPECT_TRUE(info.blas_optimized) << info.blas_library;
}

}  // namespace
}  // namespace stamina::core
