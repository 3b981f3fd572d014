// File: common/status_util.h
//
// Adds context to an absl::Status as it travels up the stack, keeping its
// code and payloads (Buildbarn's StatusWrap, Abseil's StatusBuilder <<):
//
//   absl::Status s = LoadWeights(path);
//   return stamina::Annotate(s, absl::StrCat("loading version ", v));
//   // NOT_FOUND: "loading version 7: no such file"
//
// Thread-safe: pure functions.
#ifndef STAMINA_COMMON_STATUS_UTIL_H_
#define STAMINA_COMMON_STATUS_UTIL_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace stamina {

// Returns `status` with "context: " prefixed to its message. An OK status and
// an empty context are returned unchanged.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

// The canonical upper-case name of a code ("INVALID_ARGUMENT"), as gRPC and
// docs/api.md spell it.
absl::string_view StatusCodeName(absl::StatusCode code);

}  // namespace stamina

#endif  // STAMINA_COMMON_STATUS_UTIL_H_
