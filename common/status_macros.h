// File: common/status_macros.h
//
// Early-return helpers for absl::Status / absl::StatusOr, with the semantics of
// Abseil's ABSL_RETURN_IF_ERROR / ABSL_ASSIGN_OR_RETURN (LTS 20260526), which
// the installed Abseil 20220623 lacks. On an Abseil upgrade, replace the
// STAMINA_ prefix with ABSL_ and delete this file.
//
//   absl::Status Save(const Model& m) {
//     STAMINA_RETURN_IF_ERROR(Validate(m)) << "saving " << m.name;
//     STAMINA_ASSIGN_OR_RETURN(std::unique_ptr<File> file, Open(m.path));
//     ...
//   }
//
// Context streamed with << is prefixed to the message; the code is kept.
// Thread-safe: no shared state.
#ifndef STAMINA_COMMON_STATUS_MACROS_H_
#define STAMINA_COMMON_STATUS_MACROS_H_

#include <sstream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/status_util.h"

namespace stamina {

// Carries a non-OK status out of STAMINA_RETURN_IF_ERROR, collecting context
// from operator<<. Converts to absl::Status or any absl::StatusOr<T>.
class StatusBuilder {
 public:
  explicit StatusBuilder(absl::Status status) : status_(std::move(status)) {}

  template <typename T>
  StatusBuilder& operator<<(const T& value) & {
    context_ << value;
    return *this;
  }
  template <typename T>
  StatusBuilder&& operator<<(const T& value) && {
    context_ << value;
    return std::move(*this);
  }

  operator absl::Status() const { return Build(); }  // NOLINT: implicit
  template <typename T>
  operator absl::StatusOr<T>() const {  // NOLINT: implicit
    return absl::StatusOr<T>(Build());
  }

 private:
  absl::Status Build() const { return Annotate(status_, context_.str()); }

  absl::Status status_;
  std::ostringstream context_;
};

}  // namespace stamina

#define STAMINA_STATUS_MACROS_CONCAT_INNER_(a, b) a##b
#define STAMINA_STATUS_MACROS_CONCAT_(a, b) \
  STAMINA_STATUS_MACROS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it, with optional streamed
// context, from the enclosing function when it is not OK.
#define STAMINA_RETURN_IF_ERROR(expr)                                  \
  if (::absl::Status stamina_return_if_error_status = (expr);          \
      stamina_return_if_error_status.ok()) {                           \
  } else /* NOLINT */                                                  \
    return ::stamina::StatusBuilder(                                   \
        std::move(stamina_return_if_error_status))

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, otherwise moves the value into `lhs`, which may be a
// declaration (`auto x`) or an existing variable. `lhs` must not contain
// unparenthesized commas.
#define STAMINA_ASSIGN_OR_RETURN(lhs, rexpr)                                \
  STAMINA_ASSIGN_OR_RETURN_IMPL_(                                           \
      STAMINA_STATUS_MACROS_CONCAT_(stamina_status_or_value_, __LINE__), lhs, \
      rexpr)

#define STAMINA_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();   \
  lhs = std::move(statusor).value()

#endif  // STAMINA_COMMON_STATUS_MACROS_H_
