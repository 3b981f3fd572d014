// File: server/field_checks.h
//
// Range checks of numeric request fields, with one message format for every
// RPC: "FIELD: VALUE is out of range [LOW, HIGH]", numbers printed whole
// when they are whole (1000000, never StrCat's 1e+06) and with up to 10
// significant digits otherwise. Thread-safe: functions of their arguments.
#ifndef STAMINA_SERVER_FIELD_CHECKS_H_
#define STAMINA_SERVER_FIELD_CHECKS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace stamina::server {

// OK when `value` is finite and in [low, high]; else INVALID_ARGUMENT
// naming `field`.
absl::Status CheckInRange(absl::string_view field, double value, double low, double high);

}  // namespace stamina::server

#endif  // STAMINA_SERVER_FIELD_CHECKS_H_
