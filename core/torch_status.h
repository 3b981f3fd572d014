// File: core/torch_status.h
//
// The one seam where LibTorch exceptions become absl::Status. Every LibTorch
// call can throw (c10::Error and subclasses, std::bad_alloc); library code in
// core/ runs torch work through RunTorch() and never lets an exception cross a
// cc_library boundary:
//
//   absl::StatusOr<torch::Tensor> Denoise(const torch::Tensor& x) {
//     return RunTorch([&] { return unet_->forward(x); });
//   }
//
// Classification (docs/style.md §5.1): out-of-memory → RESOURCE_EXHAUSTED;
// any other c10::Error or std::exception → INTERNAL with the message (without
// LibTorch's C++ backtrace).
// Thread-safe: no shared state.
#ifndef STAMINA_CORE_TORCH_STATUS_H_
#define STAMINA_CORE_TORCH_STATUS_H_

#include <optional>
#include <type_traits>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace stamina::core {

// Runs `fn`, converting any exception it throws into a Status.
absl::Status RunTorchVoid(absl::FunctionRef<void()> fn);

// Runs `fn` and returns its result, or the Status of the exception it threw.
// For `fn` returning void, returns absl::Status.
template <typename Fn>
auto RunTorch(Fn&& fn) {
  using Result = std::invoke_result_t<Fn&>;
  if constexpr (std::is_void_v<Result>) {
    return RunTorchVoid(fn);
  } else {
    std::optional<Result> result;
    absl::Status status = RunTorchVoid([&] { result.emplace(fn()); });
    if (!status.ok()) return absl::StatusOr<Result>(status);
    return absl::StatusOr<Result>(std::move(*result));
  }
}

}  // namespace stamina::core

#endif  // STAMINA_CORE_TORCH_STATUS_H_
