#include "core/torch_runtime.h"

#include <thread>

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

TEST(TorchRuntimeTest, IdleCoresLeaveTheBusyOnesAlone) {
  EXPECT_EQ(IdleCores(2, 0.1), 2);
  EXPECT_EQ(IdleCores(2, 1.02), 1);  // another process on one core
  EXPECT_EQ(IdleCores(2, 3.7), 1);   // never fewer than one
  EXPECT_EQ(IdleCores(16, 4.6), 11);
  EXPECT_EQ(IdleCores(4, -1), 4);  // load unknown: every core
  STAMINA_ASSERT_OK_AND_ASSIGN(TorchRuntimeInfo info,
                               ConfigureTorchRuntime({.threads = kIdleCoreThreads}));
  EXPECT_EQ(info.threads, IdleCores(info.available_cores, info.load_average));
  EXPECT_GE(info.load_average, 0);  // Linux has /proc/loadavg
}

TEST(TorchRuntimeTest, RejectsNegativeThreads) {
  EXPECT_THAT(ConfigureTorchRuntime({.threads = -2}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("threads")));
}

// One thread's own count changes neither the process-wide count nor what a
// new thread starts with.
TEST(TorchRuntimeTest, ACallingThreadsCountIsItsOwn) {
  STAMINA_ASSERT_OK(ConfigureTorchRuntime({.threads = 2}).status());
  int inside = 0, after_a_parallel_op = 0, other = 0;
  std::thread limited([&] {
    STAMINA_ASSERT_OK(SetCallingThreadTorchThreads(1));
    inside = at::get_num_threads();
    (void)torch::mm(torch::ones({64, 64}), torch::ones({64, 64}));
    after_a_parallel_op = at::get_num_threads();
  });
  limited.join();
  std::thread fresh([&] { other = at::get_num_threads(); });
  fresh.join();
  EXPECT_EQ(inside, 1);
  EXPECT_EQ(after_a_parallel_op, 1);
  EXPECT_EQ(other, 2);
  EXPECT_EQ(at::get_num_threads(), 2);
  EXPECT_THAT(SetCallingThreadTorchThreads(0), StatusCodeIs(absl::StatusCode::kInvalidArgument));
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
