// SqliteModelStore, continued: deletion that cascades and reports exactly
// what it erased. Split from sqlite_model_store.cc to keep files short.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "storage/job_rows.h"
#include "storage/model_rows.h"
#include "storage/sql_time.h"
#include "storage/sqlite_model_store.h"
#include "storage/webhook_rows.h"

namespace stamina::storage {
namespace {

absl::StatusOr<std::vector<std::string>> Strings(Database& db,
                                                 const std::string& sql,
                                                 int64_t arg) {
  STAMINA_ASSIGN_OR_RETURN(Statement query, db.Prepare(sql));
  STAMINA_RETURN_IF_ERROR(query.BindInt64(1, arg));
  std::vector<std::string> out;
  while (true) {
    STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) return out;
    out.push_back(query.ColumnText(0));
  }
}

absl::Status Exec(Database& db, const std::string& sql, int64_t arg) {
  STAMINA_ASSIGN_OR_RETURN(Statement statement, db.Prepare(sql));
  STAMINA_RETURN_IF_ERROR(statement.BindInt64(1, arg));
  return statement.Run();
}

// Reports which of `candidates` the tenant no longer references (released),
// then deletes the blob rows of those no tenant references (unreferenced).
absl::Status CollectBlobs(Database& db, const std::string& tenant_id,
                          const std::set<std::string>& candidates,
                          ErasureReport& report) {
  for (const std::string& digest : candidates) {
    STAMINA_ASSIGN_OR_RETURN(
        Statement refs,
        db.Prepare("SELECT"
                   " (SELECT count(*) FROM concept_images ci"
                   "   JOIN concepts c ON c.pk = ci.concept_pk"
                   "   JOIN models m ON m.pk = c.model_pk"
                   "   WHERE ci.digest = ?1 AND m.tenant_id = ?2)"
                   " + (SELECT count(*) FROM versions v"
                   "   JOIN models m ON m.pk = v.model_pk"
                   "   WHERE v.adapter_digest = ?1 AND m.tenant_id = ?2),"
                   " (SELECT count(*) FROM concept_images WHERE digest = ?1)"
                   " + (SELECT count(*) FROM versions WHERE adapter_digest = ?1),"
                   " (SELECT size_bytes FROM blobs WHERE digest = ?1)"));
    STAMINA_RETURN_IF_ERROR(refs.BindText(1, digest));
    STAMINA_RETURN_IF_ERROR(refs.BindText(2, tenant_id));
    STAMINA_RETURN_IF_ERROR(refs.Step().status());
    if (refs.ColumnIsNull(2)) continue;
    if (refs.ColumnInt64(0) == 0) {
      report.released_blobs.push_back(digest);
      report.released_bytes += refs.ColumnInt64(2);
    }
    if (refs.ColumnInt64(1) > 0) continue;
    for (const char* sql : {"DELETE FROM images WHERE digest = ?1",
                            "DELETE FROM blobs WHERE digest = ?1"}) {
      STAMINA_ASSIGN_OR_RETURN(Statement del, db.Prepare(sql));
      STAMINA_RETURN_IF_ERROR(del.BindText(1, digest));
      STAMINA_RETURN_IF_ERROR(del.Run());
    }
    report.unreferenced_blobs.push_back(digest);
  }
  return absl::OkStatus();
}

// Versions of `model_pk` that contain `concept_pk`, with every descendant.
absl::StatusOr<std::set<int64_t>> VersionsWithConcept(Database& db,
                                                      int64_t model_pk,
                                                      int64_t concept_pk) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement query,
      db.Prepare("WITH RECURSIVE doomed(version) AS ("
                 "  SELECT version FROM versions"
                 "   WHERE model_pk = ?1 AND concept_pk = ?2"
                 "  UNION SELECT v.version FROM versions v JOIN doomed d"
                 "   ON v.model_pk = ?1 AND v.parent_version = d.version)"
                 " SELECT version FROM doomed"));
  STAMINA_RETURN_IF_ERROR(query.BindInt64(1, model_pk));
  STAMINA_RETURN_IF_ERROR(query.BindInt64(2, concept_pk));
  std::set<int64_t> versions;
  while (true) {
    STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) return versions;
    versions.insert(query.ColumnInt64(0));
  }
}

// The newest ancestor of `head` (itself included) not in `doomed`.
absl::StatusOr<std::optional<int64_t>> SurvivingHead(
    Database& db, int64_t model_pk, std::optional<int64_t> head,
    const std::set<int64_t>& doomed) {
  while (head.has_value() && doomed.count(*head) > 0) {
    STAMINA_ASSIGN_OR_RETURN(
        Statement parent,
        db.Prepare("SELECT parent_version FROM versions"
                   " WHERE model_pk = ?1 AND version = ?2"));
    STAMINA_RETURN_IF_ERROR(parent.BindInt64(1, model_pk));
    STAMINA_RETURN_IF_ERROR(parent.BindInt64(2, *head));
    STAMINA_ASSIGN_OR_RETURN(bool found, parent.Step());
    if (!found) return absl::InternalError("broken version chain");
    head = parent.ColumnOptionalInt64(0);
  }
  return head;
}

absl::Status DeleteVersions(Database& db, const ModelRow& model,
                            const std::set<int64_t>& doomed,
                            std::set<std::string>& blobs,
                            ErasureReport& report) {
  if (doomed.empty()) return absl::OkStatus();
  const std::string list = absl::StrJoin(doomed, ",");
  STAMINA_ASSIGN_OR_RETURN(
      std::vector<std::string> adapters,
      Strings(db,
              absl::StrCat("SELECT adapter_digest FROM versions WHERE"
                           " model_pk = ?1 AND version IN (", list, ")"),
              model.pk));
  blobs.insert(adapters.begin(), adapters.end());
  for (int64_t v : doomed) {
    report.versions.push_back(VersionName(model.record.id, v));
  }
  return Exec(db,
              absl::StrCat("DELETE FROM versions WHERE model_pk = ?1 AND"
                           " version IN (", list, ")"),
              model.pk);
}

}  // namespace

absl::StatusOr<ErasureReport> SqliteModelStore::RemoveImage(
    const std::string& tenant_id, const std::string& model_id,
    const std::string& concept_id, const std::string& digest) {
  ErasureReport report;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    STAMINA_ASSIGN_OR_RETURN(ConceptRow c, FindConcept(db, model, concept_id));
    if (c.record.state != ConceptState::kDraft) {
      return absl::FailedPreconditionError(absl::StrCat(
          ConceptName(model_id, concept_id), " is no longer DRAFT"));
    }
    STAMINA_ASSIGN_OR_RETURN(
        Statement del,
        db.Prepare("DELETE FROM concept_images WHERE concept_pk = ?1"
                   " AND digest = ?2"));
    STAMINA_RETURN_IF_ERROR(del.BindInt64(1, c.pk));
    STAMINA_RETURN_IF_ERROR(del.BindText(2, digest));
    STAMINA_RETURN_IF_ERROR(del.Run());
    if (db.changes() == 0) {
      return absl::NotFoundError(absl::StrCat(
          ConceptName(model_id, concept_id), "/images/", digest, " not found"));
    }
    report.image_references = 1;
    return CollectBlobs(db, tenant_id, {digest}, report);
  }));
  return report;
}

absl::StatusOr<ErasureReport> SqliteModelStore::DeleteModel(
    const std::string& tenant_id, const std::string& model_id) {
  ErasureReport report;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    std::set<std::string> blobs;
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<std::string> versions,
        Strings(db, "SELECT version FROM versions WHERE model_pk = ?1",
                model.pk));
    std::set<int64_t> doomed;
    for (const std::string& v : versions) doomed.insert(std::stoll(v));
    STAMINA_RETURN_IF_ERROR(DeleteVersions(db, model, doomed, blobs, report));
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<std::string> images,
        Strings(db,
                "SELECT ci.digest FROM concept_images ci JOIN concepts c"
                " ON c.pk = ci.concept_pk WHERE c.model_pk = ?1",
                model.pk));
    report.image_references = static_cast<int64_t>(images.size());
    blobs.insert(images.begin(), images.end());
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<std::string> jobs,
        Strings(db, "SELECT id FROM jobs WHERE model_pk = ?1 ORDER BY pk",
                model.pk));
    for (const std::string& job : jobs) {
      report.jobs.push_back(absl::StrCat("models/", model_id, "/jobs/", job));
    }
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<std::string> concepts,
        Strings(db, "SELECT id FROM concepts WHERE model_pk = ?1 ORDER BY pk",
                model.pk));
    for (const std::string& c : concepts) {
      report.concepts.push_back(ConceptName(model_id, c));
    }
    STAMINA_RETURN_IF_ERROR(
        RecordDeletedJobEvents(db, "model_pk", model.pk, ToMicros(options_.clock->Now())));
    for (const char* sql :
         {"DELETE FROM concept_images WHERE concept_pk IN"
          " (SELECT pk FROM concepts WHERE model_pk = ?1)",
          "DELETE FROM jobs WHERE model_pk = ?1",
          "DELETE FROM concepts WHERE model_pk = ?1",
          "DELETE FROM models WHERE pk = ?1"}) {
      STAMINA_RETURN_IF_ERROR(Exec(db, sql, model.pk));
    }
    report.models.push_back(ModelName(model_id));
    return CollectBlobs(db, tenant_id, blobs, report);
  }));
  return report;
}

absl::StatusOr<DeletedConcept> SqliteModelStore::DeleteConcept(
    const std::string& tenant_id, const std::string& model_id,
    const std::string& concept_id, bool force) {
  DeletedConcept result;
  ErasureReport& report = result.erased;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    STAMINA_ASSIGN_OR_RETURN(ConceptRow c, FindConcept(db, model, concept_id));
    const std::string name = ConceptName(model_id, concept_id);
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<std::string> running,
        Strings(db, "SELECT id FROM jobs WHERE concept_pk = ?1 AND state = 2",
                c.pk));
    if (!running.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          name, " is being trained by job ", running.front(),
          "; cancel it and wait for it to stop"));
    }
    STAMINA_ASSIGN_OR_RETURN(std::set<int64_t> doomed,
                             VersionsWithConcept(db, model.pk, c.pk));
    if (!doomed.empty() && !force) {
      return absl::FailedPreconditionError(absl::StrCat(
          name, " is folded into ", doomed.size(),
          " version(s); pass force to delete them too"));
    }
    STAMINA_ASSIGN_OR_RETURN(
        result.head_version,
        SurvivingHead(db, model.pk, model.record.head_version, doomed));
    // Concepts whose only versions are being deleted become DRAFT again.
    std::set<std::string> blobs;
    std::vector<std::string> orphaned;
    if (!doomed.empty()) {
      STAMINA_ASSIGN_OR_RETURN(
          orphaned,
          Strings(db,
                  absl::StrCat("SELECT DISTINCT concept_pk FROM versions WHERE"
                               " model_pk = ?1 AND version IN (",
                               absl::StrJoin(doomed, ","), ")"),
                  model.pk));
    }
    STAMINA_RETURN_IF_ERROR(DeleteVersions(db, model, doomed, blobs, report));
    for (const std::string& pk : orphaned) {
      STAMINA_RETURN_IF_ERROR(Exec(
          db,
          "UPDATE concepts SET state = 1 WHERE pk = ?1 AND NOT EXISTS"
          " (SELECT 1 FROM versions WHERE concept_pk = ?1)",
          std::stoll(pk)));
    }
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<std::string> images,
        Strings(db, "SELECT digest FROM concept_images WHERE concept_pk = ?1",
                c.pk));
    report.image_references = static_cast<int64_t>(images.size());
    blobs.insert(images.begin(), images.end());
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<std::string> jobs,
        Strings(db, "SELECT id FROM jobs WHERE concept_pk = ?1 ORDER BY pk",
                c.pk));
    for (const std::string& job : jobs) {
      report.jobs.push_back(absl::StrCat("models/", model_id, "/jobs/", job));
    }
    STAMINA_ASSIGN_OR_RETURN(
        Statement head,
        db.Prepare("UPDATE models SET head_version = ?2, update_time_us = ?3"
                   " WHERE pk = ?1"));
    STAMINA_RETURN_IF_ERROR(head.BindInt64(1, model.pk));
    STAMINA_RETURN_IF_ERROR(head.BindOptionalInt64(2, result.head_version));
    STAMINA_RETURN_IF_ERROR(head.BindInt64(3, ToMicros(options_.clock->Now())));
    STAMINA_RETURN_IF_ERROR(head.Run());
    STAMINA_RETURN_IF_ERROR(
        RecordDeletedJobEvents(db, "concept_pk", c.pk, ToMicros(options_.clock->Now())));
    for (const char* sql : {"DELETE FROM concept_images WHERE concept_pk = ?1",
                            "DELETE FROM jobs WHERE concept_pk = ?1",
                            "DELETE FROM concepts WHERE pk = ?1"}) {
      STAMINA_RETURN_IF_ERROR(Exec(db, sql, c.pk));
    }
    report.concepts.push_back(name);
    return CollectBlobs(db, tenant_id, blobs, report);
  }));
  return result;
}

}  // namespace stamina::storage
