#include "server/auth.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rpc/internal_auth.h"

namespace stamina::server {
namespace {
constexpr size_t kMaxApiKeyLength = 256;
}  // namespace

absl::StatusOr<std::string> Authenticator::Authenticate(
    std::optional<absl::string_view> authorization) const {
  STAMINA_ASSIGN_OR_RETURN(Caller caller, AuthenticateCaller(authorization));
  return std::move(caller.tenant_id);
}

absl::StatusOr<Authenticator::Caller> Authenticator::AuthenticateCaller(
    std::optional<absl::string_view> authorization) const {
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(
        "missing `authorization: Bearer <api key>` metadata");
  }
  const std::optional<absl::string_view> key = rpc::BearerCredential(*authorization);
  if (!key.has_value()) {
    return absl::UnauthenticatedError(
        "authorization metadata must be `Bearer <api key>`");
  }
  // Keys are 68 characters: a longer value is no key (and is not hashed).
  if (key->size() > kMaxApiKeyLength) {
    return absl::UnauthenticatedError(absl::StrCat(
        "authorization: the API key is ", key->size(), " characters; keys have ",
        kMaxApiKeyLength, " or fewer"));
  }
  auto resolved = tenants_->ResolveApiKey(std::string(*key));
  if (absl::IsNotFound(resolved.status())) {
    return absl::UnauthenticatedError("unknown or revoked API key");
  }
  if (!resolved.ok()) return resolved.status();
  return Caller{.tenant_id = resolved->tenant.id, .key_id = resolved->key_id};
}

}  // namespace stamina::server
