#include "core/torch_status.h"

#include <exception>
#include <new>
#include <string>

#include "absl/strings/str_cat.h"
#include "c10/util/Exception.h"

namespace stamina::core {

absl::Status RunTorchVoid(absl::FunctionRef<void()> fn) {
  try {
    fn();
    return absl::OkStatus();
  } catch (const c10::OutOfMemoryError& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("out of memory: ", e.what_without_backtrace()));
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("torch: ", e.what_without_backtrace()));
  } catch (const std::bad_alloc& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("out of memory: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("torch: ", e.what()));
  } catch (...) {
    return absl::InternalError("torch: unknown exception");
  }
}

}  // namespace stamina::core
