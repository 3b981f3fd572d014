// File: server/admin_service_impl.h
//
// stamina.internal.v1.AdminService: tenants and API keys for operators, on
// the internal listener only, to the `admin` principals of the internal
// tokens file (rpc/internal_auth.h); and online backups of the registry.
// Every change is logged as an `audit:` line naming the admin, the tenant and
// the key id (never a secret). Thread-safe (the tenant store is).
#ifndef STAMINA_SERVER_ADMIN_SERVICE_IMPL_H_
#define STAMINA_SERVER_ADMIN_SERVICE_IMPL_H_

#include <functional>
#include <string>

#include "common/clock.h"
#include "rpc/internal_auth.h"
#include "stamina/internal/v1/admin.grpc.pb.h"
#include "storage/registry_backup.h"
#include "storage/tenant_store.h"

namespace stamina::server {

class AdminServiceImpl final : public internal::v1::AdminService::Service {
 public:
  struct Options {
    storage::TenantStore* tenants = nullptr;      // not owned
    const rpc::InternalTokens* tokens = nullptr;  // not owned
    // Backs up the registry into its backups directory at `now`, keeping the
    // newest `keep` (storage/registry_backup.h); null: BackupRegistry is
    // FAILED_PRECONDITION.
    std::function<absl::StatusOr<storage::RegistryBackup>(absl::Time now, int keep)> backup;
    Clock* clock = Clock::Real();  // not owned
    // Receives the audit lines; may be empty (then they go nowhere).
    std::function<void(const std::string&)> log;
  };
  explicit AdminServiceImpl(Options options) : options_(std::move(options)) {}

  grpc::Status SetErasurePolicy(grpc::ServerContext* call,
                                const internal::v1::SetErasurePolicyRequest* request,
                                internal::v1::Tenant* response) override;
  grpc::Status CreateTenant(grpc::ServerContext* call,
                            const internal::v1::CreateTenantRequest* request,
                            internal::v1::Tenant* response) override;
  grpc::Status ListTenants(grpc::ServerContext* call,
                           const internal::v1::ListTenantsRequest* request,
                           internal::v1::ListTenantsResponse* response) override;
  grpc::Status CreateApiKey(grpc::ServerContext* call,
                            const internal::v1::CreateApiKeyRequest* request,
                            internal::v1::CreateApiKeyResponse* response) override;
  grpc::Status ListApiKeys(grpc::ServerContext* call,
                           const internal::v1::ListApiKeysRequest* request,
                           internal::v1::ListApiKeysResponse* response) override;
  grpc::Status RevokeApiKey(grpc::ServerContext* call,
                            const internal::v1::RevokeApiKeyRequest* request,
                            internal::v1::ApiKey* response) override;
  grpc::Status BackupRegistry(grpc::ServerContext* call,
                              const internal::v1::BackupRegistryRequest* request,
                              internal::v1::BackupRegistryResponse* response) override;

 private:
  absl::StatusOr<rpc::InternalPrincipal> Admin(const grpc::ServerContext& call) const;
  void Audit(const rpc::InternalPrincipal& admin, const std::string& what) const;

  const Options options_;
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_ADMIN_SERVICE_IMPL_H_
