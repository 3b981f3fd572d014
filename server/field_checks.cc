#include "server/field_checks.h"

#include <cmath>

#include "absl/strings/str_format.h"

namespace stamina::server {

absl::Status CheckInRange(absl::string_view field, double value, double low, double high) {
  if (std::isfinite(value) && value >= low && value <= high) return absl::OkStatus();
  // %.10g prints integers up to 10 digits whole; int32 fields fit.
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: %.10g is out of range [%.10g, %.10g]", field, value, low, high));
}

}  // namespace stamina::server
