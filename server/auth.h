// File: server/auth.h
//
// API-key authentication: `authorization: Bearer <secret>` metadata → tenant.
// Unknown, revoked or missing keys are UNAUTHENTICATED with a message that
// never echoes the secret. gRPC-free: handlers pass the metadata value in.
// Thread-safe (TenantStore is).
#ifndef STAMINA_SERVER_AUTH_H_
#define STAMINA_SERVER_AUTH_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/tenant_store.h"

namespace stamina::server {

class Authenticator {
 public:
  // `tenants` is not owned and must outlive the authenticator.
  explicit Authenticator(storage::TenantStore* tenants) : tenants_(tenants) {}

  // The tenant id for an `authorization` header value (nullopt when the
  // header is absent).
  absl::StatusOr<std::string> Authenticate(
      std::optional<absl::string_view> authorization) const;

  struct Caller {
    std::string tenant_id;
    std::string key_id;
  };
  // As Authenticate, with the key's id (what records of who did what name).
  absl::StatusOr<Caller> AuthenticateCaller(std::optional<absl::string_view> authorization) const;

 private:
  storage::TenantStore* const tenants_;
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_AUTH_H_
