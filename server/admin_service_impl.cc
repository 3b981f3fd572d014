#include "server/admin_service_impl.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rpc/grpc_status.h"
#include "server/proto_conversions.h"
#include "server/service_context.h"

namespace stamina::server {
namespace {

namespace iv1 = ::stamina::internal::v1;

constexpr size_t kMaxDisplayNameBytes = 200;
const absl::Duration kMaxKeyTtl = absl::Hours(24 * 3653);

void ToProto(const storage::TenantRecord& tenant, iv1::Tenant& out) {
  out.set_tenant_id(tenant.id);
  out.set_display_name(tenant.display_name);
  *out.mutable_create_time() = ToTimestamp(tenant.create_time);
  out.set_erasure_policy(static_cast<iv1::ErasurePolicy>(tenant.erasure_policy));
}

void ToProto(const storage::ApiKeyRecord& key, iv1::ApiKey& out) {
  out.set_key_id(key.id);
  out.set_tenant_id(key.tenant_id);
  out.set_label(key.label);
  *out.mutable_create_time() = ToTimestamp(key.create_time);
  if (key.expire_time.has_value()) *out.mutable_expire_time() = ToTimestamp(*key.expire_time);
  if (key.revoke_time.has_value()) *out.mutable_revoke_time() = ToTimestamp(*key.revoke_time);
}

}  // namespace

absl::StatusOr<rpc::InternalPrincipal> AdminServiceImpl::Admin(
    const grpc::ServerContext& call) const {
  return options_.tokens->Authenticate(call, rpc::InternalRole::kAdmin, "the admin service");
}

void AdminServiceImpl::Audit(const rpc::InternalPrincipal& admin,
                             const std::string& what) const {
  if (options_.log) options_.log(absl::StrCat("audit: admin \"", admin.name, "\" ", what));
}

grpc::Status AdminServiceImpl::CreateTenant(grpc::ServerContext* call,
                                            const iv1::CreateTenantRequest* request,
                                            iv1::Tenant* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(rpc::InternalPrincipal admin, Admin(*call));
    if (request->display_name().size() > kMaxDisplayNameBytes) {
      return absl::InvalidArgumentError(absl::StrCat("display_name: at most ",
                                                     kMaxDisplayNameBytes, " bytes"));
    }
    STAMINA_ASSIGN_OR_RETURN(
        storage::TenantRecord tenant,
        options_.tenants->CreateTenant(request->tenant_id(), request->display_name()));
    Audit(admin, absl::StrCat("created tenant ", tenant.id));
    ToProto(tenant, *response);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status AdminServiceImpl::SetErasurePolicy(grpc::ServerContext* call,
                                                const iv1::SetErasurePolicyRequest* request,
                                                iv1::Tenant* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(rpc::InternalPrincipal admin, Admin(*call));
    const iv1::ErasurePolicy policy = request->erasure_policy();
    if (policy != iv1::ERASURE_POLICY_REPLAY && policy != iv1::ERASURE_POLICY_DROP_ONLY) {
      return absl::InvalidArgumentError(
          absl::StrCat("erasure_policy: ", static_cast<int>(policy),
                       " is not ERASURE_POLICY_REPLAY or ERASURE_POLICY_DROP_ONLY"));
    }
    STAMINA_ASSIGN_OR_RETURN(
        storage::TenantRecord tenant,
        options_.tenants->SetErasurePolicy(request->tenant_id(),
                                           static_cast<storage::ErasurePolicy>(policy)));
    Audit(admin, absl::StrCat("set tenant ", tenant.id, "'s erasure policy to ",
                              iv1::ErasurePolicy_Name(policy)));
    ToProto(tenant, *response);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status AdminServiceImpl::ListTenants(grpc::ServerContext* call,
                                           const iv1::ListTenantsRequest* request,
                                           iv1::ListTenantsResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_RETURN_IF_ERROR(Admin(*call).status());
    STAMINA_ASSIGN_OR_RETURN(std::vector<storage::TenantRecord> all,
                             options_.tenants->ListTenants());
    std::string next;
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<storage::TenantRecord> page,
        PageOf(std::move(all), *request, "admin", &next));
    for (const auto& tenant : page) ToProto(tenant, *response->add_tenants());
    response->set_next_page_token(next);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status AdminServiceImpl::CreateApiKey(grpc::ServerContext* call,
                                            const iv1::CreateApiKeyRequest* request,
                                            iv1::CreateApiKeyResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(rpc::InternalPrincipal admin, Admin(*call));
    if (request->tenant_id().empty()) return absl::InvalidArgumentError("tenant_id: required");
    const absl::Duration ttl = absl::Seconds(request->ttl().seconds()) +
                               absl::Nanoseconds(request->ttl().nanos());
    if (ttl < absl::ZeroDuration() || ttl > kMaxKeyTtl) {
      return absl::InvalidArgumentError("ttl: between 0 (never expires) and 10 years");
    }
    STAMINA_ASSIGN_OR_RETURN(
        storage::NewApiKey key,
        options_.tenants->CreateApiKey(request->tenant_id(),
                                       {.label = request->label(), .ttl = ttl}));
    Audit(admin, absl::StrCat("created API key ", key.key.id, " for tenant ",
                              key.key.tenant_id, " (label \"", key.key.label, "\", ",
                              key.key.expire_time.has_value()
                                  ? absl::StrCat("expires ", absl::FormatTime(*key.key.expire_time))
                                  : std::string("no expiry"),
                              ")"));
    ToProto(key.key, *response->mutable_key());
    response->set_secret(key.secret);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status AdminServiceImpl::ListApiKeys(grpc::ServerContext* call,
                                           const iv1::ListApiKeysRequest* request,
                                           iv1::ListApiKeysResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_RETURN_IF_ERROR(Admin(*call).status());
    if (request->tenant_id().empty()) return absl::InvalidArgumentError("tenant_id: required");
    STAMINA_ASSIGN_OR_RETURN(std::vector<storage::ApiKeyRecord> all,
                             options_.tenants->ListApiKeys(request->tenant_id()));
    std::string next;
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<storage::ApiKeyRecord> page,
        PageOf(std::move(all), *request, "admin", &next));
    for (const auto& key : page) ToProto(key, *response->add_keys());
    response->set_next_page_token(next);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status AdminServiceImpl::RevokeApiKey(grpc::ServerContext* call,
                                            const iv1::RevokeApiKeyRequest* request,
                                            iv1::ApiKey* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(rpc::InternalPrincipal admin, Admin(*call));
    if (request->tenant_id().empty()) return absl::InvalidArgumentError("tenant_id: required");
    if (request->key_id().empty()) return absl::InvalidArgumentError("key_id: required");
    STAMINA_RETURN_IF_ERROR(
        options_.tenants->RevokeApiKey(request->tenant_id(), request->key_id()));
    Audit(admin, absl::StrCat("revoked API key ", request->key_id(), " of tenant ",
                              request->tenant_id()));
    STAMINA_ASSIGN_OR_RETURN(std::vector<storage::ApiKeyRecord> keys,
                             options_.tenants->ListApiKeys(request->tenant_id()));
    for (const auto& key : keys) {
      if (key.id == request->key_id()) ToProto(key, *response);
    }
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status AdminServiceImpl::BackupRegistry(grpc::ServerContext* call,
                                              const iv1::BackupRegistryRequest* request,
                                              iv1::BackupRegistryResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(rpc::InternalPrincipal admin, Admin(*call));
    if (request->keep() < 0) return absl::InvalidArgumentError("keep: must be 0 (all) or more");
    if (!options_.backup) {
      return absl::FailedPreconditionError("this staminad cannot back up its registry");
    }
    const absl::Time now = options_.clock->Now();
    STAMINA_ASSIGN_OR_RETURN(storage::RegistryBackup backup, options_.backup(now, request->keep()));
    Audit(admin, absl::StrCat("backed up the registry to ", backup.path, " (", backup.bytes,
                              " bytes, ", backup.pruned, " older backups deleted)"));
    response->set_path(backup.path);
    response->set_size_bytes(backup.bytes);
    response->set_pruned(backup.pruned);
    *response->mutable_create_time() = ToTimestamp(now);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

}  // namespace stamina::server
