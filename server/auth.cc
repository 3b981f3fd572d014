#include "server/auth.h"

#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace stamina::server {

absl::StatusOr<std::string> Authenticator::Authenticate(
    std::optional<absl::string_view> authorization) const {
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(
        "missing `authorization: Bearer <api key>` metadata");
  }
  absl::string_view value = *authorization;
  if (!absl::ConsumePrefix(&value, "Bearer ") || value.empty()) {
    return absl::UnauthenticatedError(
        "authorization metadata must be `Bearer <api key>`");
  }
  auto tenant = tenants_->ResolveApiKey(std::string(value));
  if (absl::IsNotFound(tenant.status())) {
    return absl::UnauthenticatedError("unknown or revoked API key");
  }
  if (!tenant.ok()) return tenant.status();
  return tenant->id;
}

}  // namespace stamina::server
