#include "storage/sqlite_lineage_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/model_rows.h"
#include "storage/paging.h"
#include "storage/sql_time.h"

namespace stamina::storage {
namespace {

absl::StatusOr<VersionRecord> FindVersion(Database& db, const ModelRow& model,
                                          int64_t version) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement query,
      db.Prepare(absl::StrCat(kVersionSelect,
                              "WHERE v.model_pk = ?1 AND v.version = ?2")));
  STAMINA_RETURN_IF_ERROR(query.BindInt64(1, model.pk));
  STAMINA_RETURN_IF_ERROR(query.BindInt64(2, version));
  STAMINA_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat(VersionName(model.record.id, version), " not found"));
  }
  return ReadVersionRow(query);
}

// Root-to-`version` chain, oldest first.
absl::StatusOr<std::vector<VersionRecord>> Chain(Database& db,
                                                 const ModelRow& model,
                                                 int64_t version) {
  STAMINA_RETURN_IF_ERROR(FindVersion(db, model, version).status());
  STAMINA_ASSIGN_OR_RETURN(
      Statement query,
      db.Prepare(absl::StrCat(
          "WITH RECURSIVE chain(version) AS (SELECT ?2 UNION ALL"
          " SELECT p.parent_version FROM versions p JOIN chain"
          "  ON p.model_pk = ?1 AND p.version = chain.version"
          "  WHERE p.parent_version IS NOT NULL) ",
          kVersionSelect,
          "JOIN chain ON chain.version = v.version WHERE v.model_pk = ?1"
          " ORDER BY v.depth")));
  STAMINA_RETURN_IF_ERROR(query.BindInt64(1, model.pk));
  STAMINA_RETURN_IF_ERROR(query.BindInt64(2, version));
  std::vector<VersionRecord> chain;
  while (true) {
    STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) return chain;
    chain.push_back(ReadVersionRow(query));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteLineageStore>> SqliteLineageStore::Create(
    Options options) {
  if (options.db == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError("db and clock are required");
  }
  return std::unique_ptr<SqliteLineageStore>(new SqliteLineageStore(options));
}

absl::StatusOr<VersionRecord> SqliteLineageStore::GetVersion(
    const std::string& tenant_id, const std::string& model_id,
    int64_t version) {
  VersionRecord found;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    STAMINA_ASSIGN_OR_RETURN(found, FindVersion(db, model, version));
    return absl::OkStatus();
  }));
  return found;
}

absl::StatusOr<VersionPage> SqliteLineageStore::ListVersions(
    const std::string& tenant_id, const std::string& model_id, int page_size,
    const std::string& page_token) {
  STAMINA_ASSIGN_OR_RETURN(PageRequest request,
                           ParsePageRequest(page_size, page_token, "ListVersions"));
  const int size = request.size;
  const int64_t before = request.before_key;
  VersionPage page;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare(absl::StrCat(kVersionSelect,
                                "WHERE v.model_pk = ?1 AND v.version < ?2"
                                " ORDER BY v.version DESC LIMIT ?3")));
    STAMINA_RETURN_IF_ERROR(query.BindInt64(1, model.pk));
    STAMINA_RETURN_IF_ERROR(query.BindInt64(2, before));
    STAMINA_RETURN_IF_ERROR(query.BindInt64(3, size + 1));
    while (true) {
      STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
      if (!row) break;
      page.versions.push_back(ReadVersionRow(query));
    }
    if (static_cast<int>(page.versions.size()) > size) {
      page.versions.pop_back();
      page.next_page_token = absl::StrCat(page.versions.back().version);
    }
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<std::vector<LineageStep>> SqliteLineageStore::Lineage(
    const std::string& tenant_id, const std::string& model_id,
    std::optional<int64_t> version) {
  std::vector<LineageStep> steps;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    if (!version.has_value()) version = model.record.head_version;
    if (!version.has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          ModelName(model_id), " has no version yet; it is its base model"));
    }
    STAMINA_ASSIGN_OR_RETURN(std::vector<VersionRecord> chain,
                             Chain(db, model, *version));
    STAMINA_ASSIGN_OR_RETURN(
        Statement images,
        db.Prepare("SELECT ci.digest FROM concept_images ci JOIN concepts c"
                   " ON c.pk = ci.concept_pk WHERE c.model_pk = ?1"
                   " AND c.id = ?2 ORDER BY ci.digest"));
    for (VersionRecord& v : chain) {
      LineageStep step;
      STAMINA_RETURN_IF_ERROR(images.Reset());
      STAMINA_RETURN_IF_ERROR(images.BindInt64(1, model.pk));
      STAMINA_RETURN_IF_ERROR(images.BindText(2, v.concept_id));
      while (true) {
        STAMINA_ASSIGN_OR_RETURN(bool row, images.Step());
        if (!row) break;
        step.image_digests.push_back(images.ColumnText(0));
      }
      step.version = std::move(v);
      steps.push_back(std::move(step));
    }
    return absl::OkStatus();
  }));
  return steps;
}

absl::StatusOr<std::vector<VersionRecord>>
SqliteLineageStore::VersionsContaining(const std::string& tenant_id,
                                       const std::string& model_id,
                                       const std::string& concept_id) {
  std::vector<VersionRecord> versions;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    STAMINA_ASSIGN_OR_RETURN(ConceptRow c, FindConcept(db, model, concept_id));
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare(absl::StrCat(
            "WITH RECURSIVE tree(version) AS ("
            "  SELECT version FROM versions WHERE model_pk = ?1"
            "   AND concept_pk = ?2"
            "  UNION SELECT d.version FROM versions d JOIN tree"
            "   ON d.model_pk = ?1 AND d.parent_version = tree.version) ",
            kVersionSelect,
            "JOIN tree ON tree.version = v.version WHERE v.model_pk = ?1"
            " ORDER BY v.version")));
    STAMINA_RETURN_IF_ERROR(query.BindInt64(1, model.pk));
    STAMINA_RETURN_IF_ERROR(query.BindInt64(2, c.pk));
    while (true) {
      STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
      if (!row) return absl::OkStatus();
      versions.push_back(ReadVersionRow(query));
    }
  }));
  return versions;
}

absl::StatusOr<VersionDiff> SqliteLineageStore::Diff(
    const std::string& tenant_id, const std::string& model_id, int64_t a,
    int64_t b) {
  VersionDiff diff;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    STAMINA_ASSIGN_OR_RETURN(std::vector<VersionRecord> chain_a,
                             Chain(db, model, a));
    STAMINA_ASSIGN_OR_RETURN(std::vector<VersionRecord> chain_b,
                             Chain(db, model, b));
    size_t common = 0;
    while (common < chain_a.size() && common < chain_b.size() &&
           chain_a[common].version == chain_b[common].version) {
      ++common;
    }
    if (common > 0) diff.common_ancestor = chain_a[common - 1].version;
    diff.only_in_a.assign(chain_a.begin() + common, chain_a.end());
    diff.only_in_b.assign(chain_b.begin() + common, chain_b.end());
    return absl::OkStatus();
  }));
  return diff;
}

absl::StatusOr<ModelRecord> SqliteLineageStore::Rollback(
    const std::string& tenant_id, const std::string& model_id,
    int64_t version) {
  ModelRecord updated;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    STAMINA_RETURN_IF_ERROR(FindVersion(db, model, version).status());
    STAMINA_ASSIGN_OR_RETURN(
        Statement running,
        db.Prepare("SELECT id FROM jobs WHERE model_pk = ?1 AND state = 2"));
    STAMINA_RETURN_IF_ERROR(running.BindInt64(1, model.pk));
    STAMINA_ASSIGN_OR_RETURN(bool busy, running.Step());
    if (busy) {
      return absl::FailedPreconditionError(absl::StrCat(
          "job ", running.ColumnText(0), " is running on ", ModelName(model_id),
          "; wait for it or cancel it before moving the head"));
    }
    STAMINA_ASSIGN_OR_RETURN(
        Statement update,
        db.Prepare("UPDATE models SET head_version = ?2, update_time_us = ?3"
                   " WHERE pk = ?1"));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(1, model.pk));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(2, version));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(3, ToMicros(options_.clock->Now())));
    STAMINA_RETURN_IF_ERROR(update.Run());
    STAMINA_ASSIGN_OR_RETURN(ModelRow row, FindModel(db, tenant_id, model_id));
    updated = row.record;
    return absl::OkStatus();
  }));
  return updated;
}

}  // namespace stamina::storage
