#include "core/torch_status.h"

#include <new>
#include <stdexcept>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RunTorchTest, ReturnsTheValue) {
  absl::StatusOr<torch::Tensor> sum =
      RunTorch([] { return torch::ones({2, 2}).sum(); });
  ASSERT_THAT(sum, IsOk());
  EXPECT_EQ(sum->item<float>(), 4.0f);
}

TEST(RunTorchTest, VoidFunctionsReturnStatus) {
  int calls = 0;
  absl::Status status = RunTorch([&] { ++calls; });
  EXPECT_THAT(status, IsOk());
  EXPECT_EQ(calls, 1);
}

TEST(RunTorchTest, ShapeErrorsBecomeInternalWithoutBacktrace) {
  absl::StatusOr<torch::Tensor> product = RunTorch(
      [] { return torch::mm(torch::ones({2, 3}), torch::ones({2, 3})); });
  EXPECT_THAT(product, StatusIs(absl::StatusCode::kInternal,
                                HasSubstr("torch: mat1 and mat2 shapes")));
  EXPECT_THAT(product, StatusIs(absl::StatusCode::kInternal,
                                Not(HasSubstr("Exception raised from"))));
}

TEST(RunTorchTest, OutOfMemoryBecomesResourceExhausted) {
  absl::Status status = RunTorch([] { throw std::bad_alloc(); });
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kResourceExhausted,
                               HasSubstr("out of memory")));
}

TEST(RunTorchTest, TorchOutOfMemoryBecomesResourceExhausted) {
  absl::Status status = RunTorch([] {
    throw c10::OutOfMemoryError(
        c10::SourceLocation{__func__, __FILE__, __LINE__}, "tried 80 GiB");
  });
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kResourceExhausted,
                               HasSubstr("tried 80 GiB")));
}

TEST(RunTorchTest, OtherExceptionsBecomeInternal) {
  EXPECT_THAT(RunTorch([] { throw std::runtime_error("boom"); }),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("boom")));
  EXPECT_THAT(RunTorch([] { throw 42; }),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("unknown")));
}

}  // namespace
}  // namespace stamina::core
