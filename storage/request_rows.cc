#include "storage/request_rows.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace stamina::storage {

absl::StatusOr<std::optional<std::string>> FindRequest(Database& db, const RequestKey& key) {
  if (key.request_id.empty()) return std::nullopt;
  STAMINA_ASSIGN_OR_RETURN(
      Statement query,
      db.Prepare("SELECT request_sha256, resource FROM request_ids"
                 " WHERE tenant_id = ?1 AND method = ?2 AND request_id = ?3"));
  STAMINA_RETURN_IF_ERROR(query.BindText(1, key.tenant_id));
  STAMINA_RETURN_IF_ERROR(query.BindText(2, key.method));
  STAMINA_RETURN_IF_ERROR(query.BindText(3, key.request_id));
  STAMINA_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) return std::nullopt;
  if (query.ColumnText(0) != key.request_sha256) {
    return absl::AlreadyExistsError(absl::StrCat(
        "request_id: already used for a different ", key.method, " request (it made ",
        query.ColumnText(1), "); use a new request_id for a new request"));
  }
  return query.ColumnText(1);
}

absl::Status RememberRequest(Database& db, const RequestKey& key, const std::string& resource,
                             int64_t now_us) {
  if (key.request_id.empty()) return absl::OkStatus();
  STAMINA_ASSIGN_OR_RETURN(
      Statement insert,
      db.Prepare("INSERT INTO request_ids (tenant_id, method, request_id, request_sha256,"
                 " resource, create_time_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  STAMINA_RETURN_IF_ERROR(insert.BindText(1, key.tenant_id));
  STAMINA_RETURN_IF_ERROR(insert.BindText(2, key.method));
  STAMINA_RETURN_IF_ERROR(insert.BindText(3, key.request_id));
  STAMINA_RETURN_IF_ERROR(insert.BindText(4, key.request_sha256));
  STAMINA_RETURN_IF_ERROR(insert.BindText(5, resource));
  STAMINA_RETURN_IF_ERROR(insert.BindInt64(6, now_us));
  return insert.Run();
}

}  // namespace stamina::storage
