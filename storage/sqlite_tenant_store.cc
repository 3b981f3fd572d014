#include "storage/sqlite_tenant_store.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/sha256.h"
#include "storage/sql_time.h"

namespace stamina::storage {
namespace {

constexpr char kSecretPrefix[] = "stk_";
constexpr size_t kMaxLabelBytes = 200;

TenantRecord ReadTenant(const Statement& row) {
  return {.id = row.ColumnText(0),
          .display_name = row.ColumnText(1),
          .create_time = FromMicros(row.ColumnInt64(2)),
          .erasure_policy = static_cast<ErasurePolicy>(row.ColumnInt64(3))};
}

absl::StatusOr<TenantRecord> FindTenant(Database& db, const std::string& id) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement query,
      db.Prepare("SELECT id, display_name, create_time_us, erasure_policy FROM tenants"
                 " WHERE id = ?1"));
  STAMINA_RETURN_IF_ERROR(query.BindText(1, id));
  STAMINA_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("tenant ", id, " not found"));
  return ReadTenant(query);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteTenantStore>> SqliteTenantStore::Create(
    Options options) {
  if (options.db == nullptr || options.clock == nullptr ||
      options.ids == nullptr) {
    return absl::InvalidArgumentError("db, clock and ids are required");
  }
  return std::unique_ptr<SqliteTenantStore>(new SqliteTenantStore(options));
}

absl::StatusOr<TenantRecord> SqliteTenantStore::CreateTenant(
    const std::string& id, const std::string& display_name) {
  STAMINA_RETURN_IF_ERROR(ValidateResourceId(id, "tenant_id"));
  TenantRecord tenant{.id = id,
                      .display_name = display_name,
                      .create_time = options_.clock->Now()};
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement insert,
        db.Prepare("INSERT INTO tenants (id, display_name, create_time_us)"
                   " VALUES (?1, ?2, ?3)"));
    STAMINA_RETURN_IF_ERROR(insert.BindText(1, id));
    STAMINA_RETURN_IF_ERROR(insert.BindText(2, display_name));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(3, ToMicros(tenant.create_time)));
    return insert.Run();
  })) << "creating tenant " << id;
  return tenant;
}

absl::StatusOr<TenantRecord> SqliteTenantStore::GetTenant(const std::string& id) {
  TenantRecord tenant;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(tenant, FindTenant(db, id));
    return absl::OkStatus();
  }));
  return tenant;
}

absl::StatusOr<TenantRecord> SqliteTenantStore::SetErasurePolicy(const std::string& id,
                                                                 ErasurePolicy policy) {
  if (policy != ErasurePolicy::kReplay && policy != ErasurePolicy::kDropOnly) {
    return absl::InvalidArgumentError(
        absl::StrCat("erasure_policy: unknown value ", static_cast<int>(policy)));
  }
  TenantRecord tenant;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(Statement update,
                             db.Prepare("UPDATE tenants SET erasure_policy = ?2 WHERE id = ?1"));
    STAMINA_RETURN_IF_ERROR(update.BindText(1, id));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(2, static_cast<int64_t>(policy)));
    STAMINA_RETURN_IF_ERROR(update.Run());
    STAMINA_ASSIGN_OR_RETURN(tenant, FindTenant(db, id));
    return absl::OkStatus();
  }));
  return tenant;
}

absl::StatusOr<std::vector<TenantRecord>> SqliteTenantStore::ListTenants() {
  std::vector<TenantRecord> tenants;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare("SELECT id, display_name, create_time_us, erasure_policy FROM tenants"
                   " ORDER BY id"));
    while (true) {
      STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
      if (!row) return absl::OkStatus();
      tenants.push_back(ReadTenant(query));
    }
  }));
  return tenants;
}

absl::StatusOr<NewApiKey> SqliteTenantStore::CreateApiKey(const std::string& tenant_id,
                                                          const ApiKeySpec& spec) {
  if (spec.label.size() > kMaxLabelBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "label: ", spec.label.size(), " bytes; at most ", kMaxLabelBytes));
  }
  if (spec.ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ttl: must not be negative");
  }
  NewApiKey result;
  result.secret = absl::StrCat(kSecretPrefix, RandomHex(32));
  result.key = {.id = options_.ids->NewId(),
                .tenant_id = tenant_id,
                .label = spec.label,
                .create_time = options_.clock->Now()};
  if (spec.ttl > absl::ZeroDuration()) {
    result.key.expire_time = result.key.create_time + spec.ttl;
  }
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_RETURN_IF_ERROR(FindTenant(db, tenant_id).status());
    STAMINA_ASSIGN_OR_RETURN(
        Statement insert,
        db.Prepare("INSERT INTO api_keys (id, tenant_id, secret_sha256,"
                   " create_time_us, label, expire_time_us)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    STAMINA_RETURN_IF_ERROR(insert.BindText(1, result.key.id));
    STAMINA_RETURN_IF_ERROR(insert.BindText(2, tenant_id));
    STAMINA_RETURN_IF_ERROR(insert.BindText(3, Sha256Hex(result.secret)));
    STAMINA_RETURN_IF_ERROR(
        insert.BindInt64(4, ToMicros(result.key.create_time)));
    STAMINA_RETURN_IF_ERROR(insert.BindText(5, spec.label));
    STAMINA_RETURN_IF_ERROR(insert.BindOptionalInt64(
        6, result.key.expire_time.has_value()
               ? std::optional<int64_t>(ToMicros(*result.key.expire_time))
               : std::nullopt));
    return insert.Run();
  }));
  return result;
}

absl::StatusOr<ResolvedApiKey> SqliteTenantStore::ResolveApiKey(
    const std::string& secret) {
  ResolvedApiKey resolved;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare(
            "SELECT t.id, t.display_name, t.create_time_us, t.erasure_policy, k.expire_time_us,"
            " k.id"
            " FROM api_keys k"
            " JOIN tenants t ON t.id = k.tenant_id"
            " WHERE k.secret_sha256 = ?1 AND k.revoke_time_us IS NULL"
            " AND (k.expire_time_us IS NULL OR k.expire_time_us > ?2)"));
    STAMINA_RETURN_IF_ERROR(query.BindText(1, Sha256Hex(secret)));
    STAMINA_RETURN_IF_ERROR(query.BindInt64(2, ToMicros(options_.clock->Now())));
    STAMINA_ASSIGN_OR_RETURN(bool found, query.Step());
    // The message never echoes the secret.
    if (!found) return absl::NotFoundError("unknown, revoked or expired API key");
    resolved.tenant = ReadTenant(query);
    if (!query.ColumnIsNull(4)) resolved.expire_time = FromMicros(query.ColumnInt64(4));
    resolved.key_id = query.ColumnText(5);
    return absl::OkStatus();
  }));
  return resolved;
}

absl::Status SqliteTenantStore::RevokeApiKey(const std::string& tenant_id,
                                             const std::string& key_id) {
  return options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement update,
        db.Prepare("UPDATE api_keys SET revoke_time_us ="
                   " coalesce(revoke_time_us, ?3)"
                   " WHERE tenant_id = ?1 AND id = ?2"));
    STAMINA_RETURN_IF_ERROR(update.BindText(1, tenant_id));
    STAMINA_RETURN_IF_ERROR(update.BindText(2, key_id));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(3, ToMicros(options_.clock->Now())));
    STAMINA_RETURN_IF_ERROR(update.Run());
    if (db.changes() == 0) {
      return absl::NotFoundError(absl::StrCat("API key ", key_id, " not found"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<ApiKeyRecord>> SqliteTenantStore::ListApiKeys(
    const std::string& tenant_id) {
  std::vector<ApiKeyRecord> keys;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_RETURN_IF_ERROR(FindTenant(db, tenant_id).status());
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare("SELECT id, create_time_us, revoke_time_us, label, expire_time_us"
                   " FROM api_keys WHERE tenant_id = ?1 ORDER BY create_time_us, id"));
    STAMINA_RETURN_IF_ERROR(query.BindText(1, tenant_id));
    while (true) {
      STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
      if (!row) return absl::OkStatus();
      keys.push_back({.id = query.ColumnText(0),
                      .tenant_id = tenant_id,
                      .label = query.ColumnText(3),
                      .create_time = FromMicros(query.ColumnInt64(1)),
                      .expire_time = FromMicros(query.ColumnOptionalInt64(4)),
                      .revoke_time = FromMicros(query.ColumnOptionalInt64(2))});
    }
  }));
  return keys;
}

}  // namespace stamina::storage
