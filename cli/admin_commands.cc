// `stamina admin ...`: tenants, API keys and registry backups through staminad's internal
// AdminService (--server names the internal listener; the caller presents an
// admin token from --admin_token_file or $STAMINA_ADMIN_TOKEN).
#include "absl/strings/str_cat.h"
#include "cli/command_groups.h"
#include "cli/format.h"
#include "common/status_macros.h"

namespace stamina::cli {
namespace {

namespace iv1 = ::stamina::internal::v1;

void PrintKey(std::ostream& out, const iv1::ApiKey& key) {
  out << key.key_id() << "  tenant " << key.tenant_id() << "  label \"" << key.label()
      << "\"  created " << FormatTimestamp(key.create_time());
  if (key.has_expire_time()) out << "  expires " << FormatTimestamp(key.expire_time());
  if (key.has_revoke_time()) out << "  REVOKED " << FormatTimestamp(key.revoke_time());
  out << '\n';
}

}  // namespace

absl::StatusOr<int> AdminTenantsCreate(Session& session, const Operands& operands) {
  iv1::CreateTenantRequest request;
  request.set_tenant_id(operands[0]);
  request.set_display_name(session.flags().display_name);
  iv1::Tenant tenant;
  STAMINA_RETURN_IF_ERROR(
      FromGrpc(session.admin().CreateTenant(session.NewAdminContext().get(), request, &tenant)));
  session.out() << "created tenant " << tenant.tenant_id() << '\n';
  return 0;
}

absl::StatusOr<int> AdminTenantsErasurePolicy(Session& session, const Operands& operands) {
  iv1::SetErasurePolicyRequest request;
  request.set_tenant_id(operands[0]);
  if (operands[1] == "replay") {
    request.set_erasure_policy(iv1::ERASURE_POLICY_REPLAY);
  } else if (operands[1] == "drop-only") {
    request.set_erasure_policy(iv1::ERASURE_POLICY_DROP_ONLY);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("policy: \"", operands[1], "\" is not replay or drop-only"));
  }
  iv1::Tenant tenant;
  STAMINA_RETURN_IF_ERROR(FromGrpc(
      session.admin().SetErasurePolicy(session.NewAdminContext().get(), request, &tenant)));
  session.out() << "tenant " << tenant.tenant_id() << ": erasure policy "
                << iv1::ErasurePolicy_Name(tenant.erasure_policy()) << '\n';
  return 0;
}

absl::StatusOr<int> AdminTenantsList(Session& session, const Operands& /*operands*/) {
  iv1::ListTenantsRequest request;
  request.set_page_size(1000);
  do {
    iv1::ListTenantsResponse page;
    STAMINA_RETURN_IF_ERROR(
        FromGrpc(session.admin().ListTenants(session.NewAdminContext().get(), request, &page)));
    for (const iv1::Tenant& tenant : page.tenants()) {
      session.out() << tenant.tenant_id() << "  \"" << tenant.display_name() << "\"  created "
                    << FormatTimestamp(tenant.create_time()) << '\n';
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  return 0;
}

absl::StatusOr<int> AdminKeysCreate(Session& session, const Operands& operands) {
  iv1::CreateApiKeyRequest request;
  request.set_tenant_id(operands[0]);
  request.set_label(session.flags().label);
  if (session.flags().ttl_hours < 0) {
    return absl::InvalidArgumentError("--ttl_hours: must not be negative");
  }
  request.mutable_ttl()->set_seconds(int64_t{3600} * session.flags().ttl_hours);
  iv1::CreateApiKeyResponse response;
  STAMINA_RETURN_IF_ERROR(
      FromGrpc(session.admin().CreateApiKey(session.NewAdminContext().get(), request, &response)));
  PrintKey(session.err(), response.key());
  session.err() << "the secret below is shown once; only its SHA-256 is kept\n";
  session.out() << response.secret() << '\n';
  return 0;
}

absl::StatusOr<int> AdminKeysList(Session& session, const Operands& operands) {
  iv1::ListApiKeysRequest request;
  request.set_tenant_id(operands[0]);
  request.set_page_size(1000);
  do {
    iv1::ListApiKeysResponse page;
    STAMINA_RETURN_IF_ERROR(
        FromGrpc(session.admin().ListApiKeys(session.NewAdminContext().get(), request, &page)));
    for (const iv1::ApiKey& key : page.keys()) PrintKey(session.out(), key);
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  return 0;
}

absl::StatusOr<int> AdminKeysRevoke(Session& session, const Operands& operands) {
  iv1::RevokeApiKeyRequest request;
  request.set_tenant_id(operands[0]);
  request.set_key_id(operands[1]);
  iv1::ApiKey key;
  STAMINA_RETURN_IF_ERROR(
      FromGrpc(session.admin().RevokeApiKey(session.NewAdminContext().get(), request, &key)));
  session.out() << "revoked ";
  PrintKey(session.out(), key);
  return 0;
}

absl::StatusOr<int> AdminBackup(Session& session, const Operands& /*operands*/) {
  if (session.flags().keep < 0) return absl::InvalidArgumentError("--keep: must not be negative");
  iv1::BackupRegistryRequest request;
  request.set_keep(session.flags().keep);
  iv1::BackupRegistryResponse backup;
  STAMINA_RETURN_IF_ERROR(
      FromGrpc(session.admin().BackupRegistry(session.NewAdminContext().get(), request, &backup)));
  session.out() << "backed up the registry to " << backup.path() << " (" << backup.size_bytes()
                << " bytes, " << FormatTimestamp(backup.create_time()) << ")";
  if (backup.pruned() > 0) session.out() << "; deleted " << backup.pruned() << " older";
  session.out() << '\n';
  return 0;
}

}  // namespace stamina::cli
