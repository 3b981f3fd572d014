#include "storage/model_rows.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "storage/sql_time.h"

namespace stamina::storage {

absl::StatusOr<std::optional<ModelRecord>> ModelOfRequest(Database& db, const RequestKey& key) {
  STAMINA_ASSIGN_OR_RETURN(std::optional<std::string> made, FindRequest(db, key));
  if (!made.has_value()) return std::nullopt;
  absl::StatusOr<ModelRow> row = FindModel(db, key.tenant_id, *made);
  if (absl::IsNotFound(row.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("request_id: the model it created, ", ModelName(*made), ", was deleted"));
  }
  STAMINA_RETURN_IF_ERROR(row.status());
  return std::move(row->record);
}

absl::StatusOr<ModelRow> FindModel(Database& db, const std::string& tenant_id,
                                   const std::string& model_id) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement query,
      db.Prepare("SELECT pk, display_name, base_model_id, base_digest,"
                 " head_version, create_time_us, update_time_us,"
                 " (SELECT count(*) FROM versions v WHERE v.model_pk = m.pk),"
                 " (SELECT count(*) FROM concepts c WHERE c.model_pk = m.pk),"
                 " coalesce((SELECT j.id FROM jobs j WHERE j.model_pk = m.pk"
                 "   AND j.state = 4 ORDER BY j.pk LIMIT 1), ''), webhook_url, forked_from"
                 " FROM models m WHERE tenant_id = ?1 AND id = ?2"));
  STAMINA_RETURN_IF_ERROR(query.BindText(1, tenant_id));
  STAMINA_RETURN_IF_ERROR(query.BindText(2, model_id));
  STAMINA_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return absl::NotFoundError(absl::StrCat(ModelName(model_id), " not found"));
  }
  ModelRow row;
  row.pk = query.ColumnInt64(0);
  ModelRecord& m = row.record;
  m.tenant_id = tenant_id;
  m.id = model_id;
  m.display_name = query.ColumnText(1);
  m.base_model_id = query.ColumnText(2);
  m.base_digest = query.ColumnText(3);
  m.head_version = query.ColumnOptionalInt64(4);
  m.create_time = FromMicros(query.ColumnInt64(5));
  m.update_time = FromMicros(query.ColumnInt64(6));
  m.version_count = query.ColumnInt64(7);
  m.concept_count = query.ColumnInt64(8);
  m.failed_job_id = query.ColumnText(9);
  m.webhook_url = query.ColumnText(10);
  m.forked_from = query.ColumnText(11);
  return row;
}

absl::StatusOr<ConceptRow> FindConcept(Database& db, const ModelRow& model,
                                       const std::string& concept_id) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement query,
      db.Prepare("SELECT pk, token, display_name, caption_templates, state,"
                 " create_time_us, (SELECT count(*) FROM concept_images ci"
                 "   WHERE ci.concept_pk = c.pk)"
                 " FROM concepts c WHERE model_pk = ?1 AND id = ?2"));
  STAMINA_RETURN_IF_ERROR(query.BindInt64(1, model.pk));
  STAMINA_RETURN_IF_ERROR(query.BindText(2, concept_id));
  STAMINA_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return absl::NotFoundError(absl::StrCat(
        ConceptName(model.record.id, concept_id), " not found"));
  }
  ConceptRow row;
  row.pk = query.ColumnInt64(0);
  ConceptRecord& c = row.record;
  c.tenant_id = model.record.tenant_id;
  c.model_id = model.record.id;
  c.id = concept_id;
  c.token = query.ColumnText(1);
  c.display_name = query.ColumnText(2);
  const std::string templates = query.ColumnText(3);
  if (!templates.empty()) {
    c.caption_templates = absl::StrSplit(templates, '\n');
  }
  c.state = static_cast<ConceptState>(query.ColumnInt64(4));
  c.create_time = FromMicros(query.ColumnInt64(5));
  c.image_count = query.ColumnInt64(6);
  return row;
}

const char kVersionSelect[] =
    "SELECT m.tenant_id, m.id, v.version, v.parent_version, c.id, v.token,"
    "  coalesce(j.id, ''), v.adapter_digest, v.base_digest, v.settings,"
    "  v.metrics, v.depth, v.create_time_us,"
    "  coalesce((SELECT e.id FROM erasures e WHERE e.pk = j.erasure_pk), ''),"
    "  j.replay_of_version"
    " FROM versions v JOIN models m ON m.pk = v.model_pk"
    " JOIN concepts c ON c.pk = v.concept_pk"
    " LEFT JOIN jobs j ON j.pk = v.job_pk ";

VersionRecord ReadVersionRow(const Statement& row) {
  VersionRecord v;
  v.tenant_id = row.ColumnText(0);
  v.model_id = row.ColumnText(1);
  v.version = row.ColumnInt64(2);
  v.parent_version = row.ColumnOptionalInt64(3);
  v.concept_id = row.ColumnText(4);
  v.token = row.ColumnText(5);
  v.job_id = row.ColumnText(6);
  v.adapter_digest = row.ColumnText(7);
  v.base_digest = row.ColumnText(8);
  v.settings = row.ColumnBlob(9);
  v.metrics = row.ColumnBlob(10);
  v.depth = row.ColumnInt64(11);
  v.create_time = FromMicros(row.ColumnInt64(12));
  v.erasure_id = row.ColumnText(13);
  v.replay_of_version = row.ColumnOptionalInt64(14);
  return v;
}

std::string ModelName(const std::string& model_id) {
  return absl::StrCat("models/", model_id);
}

std::string ConceptName(const std::string& model_id,
                        const std::string& concept_id) {
  return absl::StrCat("models/", model_id, "/concepts/", concept_id);
}

std::string VersionName(const std::string& model_id, int64_t version) {
  return absl::StrCat("models/", model_id, "/versions/", version);
}

absl::StatusOr<int64_t> TenantStoredBytes(Database& db, const std::string& tenant_id) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement query,
      db.Prepare("SELECT coalesce(sum(size_bytes), 0) FROM blobs WHERE digest IN ("
                 " SELECT ci.digest FROM concept_images ci"
                 " JOIN concepts c ON c.pk = ci.concept_pk"
                 " JOIN models m ON m.pk = c.model_pk WHERE m.tenant_id = ?1"
                 " UNION SELECT v.adapter_digest FROM versions v"
                 " JOIN models m ON m.pk = v.model_pk WHERE m.tenant_id = ?1)"));
  STAMINA_RETURN_IF_ERROR(query.BindText(1, tenant_id));
  STAMINA_RETURN_IF_ERROR(query.Step().status());
  return query.ColumnInt64(0);
}

absl::Status CheckModelQuota(Database& db, const std::string& tenant_id, int max_models) {
  if (max_models <= 0) return absl::OkStatus();
  STAMINA_ASSIGN_OR_RETURN(Statement count,
                           db.Prepare("SELECT COUNT(*) FROM models WHERE tenant_id = ?1"));
  STAMINA_RETURN_IF_ERROR(count.BindText(1, tenant_id));
  STAMINA_RETURN_IF_ERROR(count.Step().status());
  if (count.ColumnInt64(0) >= max_models) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the tenant has ", count.ColumnInt64(0), " models; its quota is ", max_models,
                     " (Limits.max_models_per_tenant): delete one first"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> InsertModelRow(Database& db, const ModelRowSpec& spec) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement insert,
      db.Prepare("INSERT INTO models (tenant_id, id, display_name, base_model_id, base_digest,"
                 " create_time_us, update_time_us, webhook_url, forked_from)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)"));
  STAMINA_RETURN_IF_ERROR(insert.BindText(1, spec.tenant_id));
  STAMINA_RETURN_IF_ERROR(insert.BindText(2, spec.id));
  STAMINA_RETURN_IF_ERROR(insert.BindText(3, spec.display_name));
  STAMINA_RETURN_IF_ERROR(insert.BindText(4, spec.base_model_id));
  STAMINA_RETURN_IF_ERROR(insert.BindText(5, spec.base_digest));
  STAMINA_RETURN_IF_ERROR(insert.BindInt64(6, spec.now_us));
  STAMINA_RETURN_IF_ERROR(insert.BindText(7, spec.webhook_url));
  STAMINA_RETURN_IF_ERROR(insert.BindText(8, spec.forked_from));
  absl::Status inserted = insert.Run();
  if (absl::IsFailedPrecondition(inserted)) {  // foreign key: no tenant
    return absl::NotFoundError(absl::StrCat("tenant ", spec.tenant_id, " not found"));
  }
  if (absl::IsAlreadyExists(inserted)) {
    return absl::AlreadyExistsError(absl::StrCat(ModelName(spec.id), " already exists"));
  }
  STAMINA_RETURN_IF_ERROR(inserted);
  return db.last_insert_rowid();
}

}  // namespace stamina::storage
