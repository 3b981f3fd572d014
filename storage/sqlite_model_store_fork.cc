// SqliteModelStore::ForkModel: a new model that starts at another model's
// version, sharing every concept image and adapter by digest.
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "storage/model_rows.h"
#include "storage/request_rows.h"
#include "storage/sql_time.h"
#include "storage/sqlite_model_store.h"

namespace stamina::storage {
namespace {

struct ChainStep {
  int64_t version = 0;
  int64_t concept_pk = 0;
};

// The versions from the first to `version` of model `model_pk`, oldest first.
absl::StatusOr<std::vector<ChainStep>> ChainTo(Database& db, int64_t model_pk,
                                               const std::string& model_id, int64_t version) {
  STAMINA_ASSIGN_OR_RETURN(Statement step,
                           db.Prepare("SELECT parent_version, concept_pk FROM versions"
                                      " WHERE model_pk = ?1 AND version = ?2"));
  std::vector<ChainStep> chain;
  std::optional<int64_t> at = version;
  while (at.has_value()) {
    STAMINA_RETURN_IF_ERROR(step.Reset());
    STAMINA_RETURN_IF_ERROR(step.BindInt64(1, model_pk));
    STAMINA_RETURN_IF_ERROR(step.BindInt64(2, *at));
    STAMINA_ASSIGN_OR_RETURN(bool found, step.Step());
    if (!found) {
      return absl::NotFoundError(
          absl::StrCat("models/", model_id, "/versions/", *at, " not found"));
    }
    chain.insert(chain.begin(), {.version = *at, .concept_pk = step.ColumnInt64(1)});
    at = step.ColumnOptionalInt64(0);
  }
  return chain;
}

absl::Status Run(Database& db, const char* sql, std::initializer_list<int64_t> values) {
  STAMINA_ASSIGN_OR_RETURN(Statement statement, db.Prepare(sql));
  int i = 1;
  for (int64_t value : values) STAMINA_RETURN_IF_ERROR(statement.BindInt64(i++, value));
  return statement.Run();
}

}  // namespace

absl::StatusOr<ModelRecord> SqliteModelStore::ForkModel(const ModelFork& fork) {
  const NewModel& model = fork.model;
  STAMINA_RETURN_IF_ERROR(ValidateResourceId(model.id, "model_id"));
  ModelRecord created;
  const RequestKey key{.tenant_id = model.tenant_id,
                       .method = "ForkModel",
                       .request_id = model.request_id,
                       .request_sha256 = model.request_sha256};
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::optional<ModelRecord> retried, ModelOfRequest(db, key));
    if (retried.has_value()) {  // a retry: what the first request made
      created = *std::move(retried);
      return absl::OkStatus();
    }
    STAMINA_ASSIGN_OR_RETURN(ModelRow source, FindModel(db, fork.tenant_id, fork.source_model_id));
    STAMINA_ASSIGN_OR_RETURN(std::vector<ChainStep> chain,
                             ChainTo(db, source.pk, fork.source_model_id, fork.source_version));
    STAMINA_RETURN_IF_ERROR(CheckModelQuota(db, model.tenant_id, options_.max_models_per_tenant));
    const int64_t now_us = ToMicros(options_.clock->Now());
    STAMINA_ASSIGN_OR_RETURN(
        int64_t fork_pk,
        InsertModelRow(db, {.tenant_id = model.tenant_id,
                            .id = model.id,
                            .display_name = model.display_name,
                            .base_model_id = source.record.base_model_id,
                            .base_digest = source.record.base_digest,
                            .webhook_url = model.webhook_url,
                            .forked_from = absl::StrCat("models/", fork.source_model_id,
                                                        "/versions/", fork.source_version),
                            .now_us = now_us}));
    for (size_t i = 0; i < chain.size(); ++i) {
      // The concept as it was trained, its images (references: the bytes
      // are shared), and the version that folded it in, renumbered 1..N.
      STAMINA_RETURN_IF_ERROR(Run(db,
                                  "INSERT INTO concepts (model_pk, id, token, display_name,"
                                  " caption_templates, state, create_time_us)"
                                  " SELECT ?1, id, token, display_name, caption_templates, 3, ?3"
                                  " FROM concepts WHERE pk = ?2",
                                  {fork_pk, chain[i].concept_pk, now_us}));
      const int64_t concept_pk = db.last_insert_rowid();
      STAMINA_RETURN_IF_ERROR(Run(db,
                                  "INSERT INTO concept_images (concept_pk, digest, filename,"
                                  " caption, create_time_us, original_filename)"
                                  " SELECT ?1, digest, filename, caption, create_time_us,"
                                  " original_filename FROM concept_images WHERE concept_pk = ?2",
                                  {concept_pk, chain[i].concept_pk}));
      const int64_t version = static_cast<int64_t>(i) + 1;
      STAMINA_ASSIGN_OR_RETURN(
          Statement copy,
          db.Prepare("INSERT INTO versions (model_pk, version, parent_version, concept_pk,"
                     " token, job_pk, adapter_digest, base_digest, settings, metrics, depth,"
                     " create_time_us) SELECT ?1, ?2, ?3, ?4, token, NULL, adapter_digest,"
                     " base_digest, settings, metrics, ?2, create_time_us FROM versions"
                     " WHERE model_pk = ?5 AND version = ?6"));
      STAMINA_RETURN_IF_ERROR(copy.BindInt64(1, fork_pk));
      STAMINA_RETURN_IF_ERROR(copy.BindInt64(2, version));
      STAMINA_RETURN_IF_ERROR(copy.BindOptionalInt64(
          3, version > 1 ? std::optional<int64_t>(version - 1) : std::nullopt));
      STAMINA_RETURN_IF_ERROR(copy.BindInt64(4, concept_pk));
      STAMINA_RETURN_IF_ERROR(copy.BindInt64(5, source.pk));
      STAMINA_RETURN_IF_ERROR(copy.BindInt64(6, chain[i].version));
      STAMINA_RETURN_IF_ERROR(copy.Run());
    }
    const int64_t head = static_cast<int64_t>(chain.size());
    STAMINA_RETURN_IF_ERROR(
        Run(db, "UPDATE models SET head_version = ?2, next_version = ?2 + 1 WHERE pk = ?1",
            {fork_pk, head}));
    STAMINA_ASSIGN_OR_RETURN(ModelRow row, FindModel(db, model.tenant_id, model.id));
    created = row.record;
    return RememberRequest(db, key, model.id, now_us);
  }));
  return created;
}

}  // namespace stamina::storage
