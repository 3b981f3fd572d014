// The cascading delete of a concept (erasure_rows.h).
#include "storage/erasure_rows.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "storage/job_rows.h"
#include "storage/webhook_rows.h"

namespace stamina::storage {

absl::StatusOr<std::vector<std::string>> TextColumn(Database& db, const std::string& sql,
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

absl::Status ExecWith(Database& db, const std::string& sql, int64_t arg) {
  STAMINA_ASSIGN_OR_RETURN(Statement statement, db.Prepare(sql));
  STAMINA_RETURN_IF_ERROR(statement.BindInt64(1, arg));
  return statement.Run();
}

// Reports which of `candidates` the tenant no longer references (released),
// then deletes the blob rows of those no tenant references (unreferenced).
absl::Status CollectBlobs(Database& db, const std::string& tenant_id,
                          const std::set<std::string>& candidates, ErasureReport& report) {
  for (const std::string& digest : candidates) {
    STAMINA_ASSIGN_OR_RETURN(
        Statement refs, db.Prepare("SELECT"
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
    for (const char* sql :
         {"DELETE FROM images WHERE digest = ?1", "DELETE FROM blobs WHERE digest = ?1"}) {
      STAMINA_ASSIGN_OR_RETURN(Statement del, db.Prepare(sql));
      STAMINA_RETURN_IF_ERROR(del.BindText(1, digest));
      STAMINA_RETURN_IF_ERROR(del.Run());
    }
    report.unreferenced_blobs.push_back(digest);
  }
  return absl::OkStatus();
}

// Versions of `model_pk` that contain `concept_pk`, with every descendant.
absl::StatusOr<std::set<int64_t>> VersionsWithConcept(Database& db, int64_t model_pk,
                                                      int64_t concept_pk) {
  STAMINA_ASSIGN_OR_RETURN(Statement query,
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
absl::StatusOr<std::optional<int64_t>> SurvivingHead(Database& db, int64_t model_pk,
                                                     std::optional<int64_t> head,
                                                     const std::set<int64_t>& doomed) {
  while (head.has_value() && doomed.count(*head) > 0) {
    STAMINA_ASSIGN_OR_RETURN(Statement parent, db.Prepare("SELECT parent_version FROM versions"
                                                          " WHERE model_pk = ?1 AND version = ?2"));
    STAMINA_RETURN_IF_ERROR(parent.BindInt64(1, model_pk));
    STAMINA_RETURN_IF_ERROR(parent.BindInt64(2, *head));
    STAMINA_ASSIGN_OR_RETURN(bool found, parent.Step());
    if (!found) return absl::InternalError("broken version chain");
    head = parent.ColumnOptionalInt64(0);
  }
  return head;
}

absl::Status DeleteVersions(Database& db, const ModelRow& model, const std::set<int64_t>& doomed,
                            std::set<std::string>& blobs, ErasureReport& report) {
  if (doomed.empty()) return absl::OkStatus();
  const std::string list = absl::StrJoin(doomed, ",");
  STAMINA_ASSIGN_OR_RETURN(std::vector<std::string> adapters,
                           TextColumn(db,
                                      absl::StrCat("SELECT adapter_digest FROM versions WHERE"
                                                   " model_pk = ?1 AND version IN (",
                                                   list, ")"),
                                      model.pk));
  blobs.insert(adapters.begin(), adapters.end());
  for (int64_t v : doomed) {
    report.versions.push_back(VersionName(model.record.id, v));
  }
  return ExecWith(db,
                  absl::StrCat("DELETE FROM versions WHERE model_pk = ?1 AND"
                               " version IN (",
                               list, ")"),
                  model.pk);
}

namespace {

// RUNNING jobs of the model whose parent version is doomed go back to the
// queue: their worker's lease is lost (its results are refused) and the
// attempt does not count against the job.
absl::Status RequeueJobsOn(Database& db, int64_t model_pk, const std::set<int64_t>& doomed,
                           int64_t now_us) {
  if (doomed.empty()) return absl::OkStatus();
  STAMINA_ASSIGN_OR_RETURN(
      std::vector<std::string> running,
      TextColumn(db,
                 absl::StrCat("SELECT pk FROM jobs WHERE model_pk = ?1 AND state = 2"
                              " AND parent_version IN (",
                              absl::StrJoin(doomed, ","), ")"),
                 model_pk));
  for (const std::string& pk : running) {
    STAMINA_RETURN_IF_ERROR(ExecWith(
        db, "UPDATE jobs SET attempt = max(attempt - 1, 0) WHERE pk = ?1", std::stoll(pk)));
    STAMINA_RETURN_IF_ERROR(UpdateJobState(db, std::stoll(pk), JobState::kQueued, now_us));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<int64_t>> DropConceptRows(Database& db, const std::string& tenant_id,
                                                     const ModelRow& model, const ConceptRow& c,
                                                     const std::set<int64_t>& doomed,
                                                     std::optional<int64_t> head, int64_t now_us,
                                                     ErasureReport& report) {
  const std::string& model_id = model.record.id;
  STAMINA_RETURN_IF_ERROR(RequeueJobsOn(db, model.pk, doomed, now_us));
  // Concepts whose only versions are being deleted become DRAFT again.
  std::set<std::string> blobs;
  std::vector<std::string> orphaned;
  if (!doomed.empty()) {
    STAMINA_ASSIGN_OR_RETURN(
        orphaned, TextColumn(db,
                             absl::StrCat("SELECT DISTINCT concept_pk FROM versions WHERE"
                                          " model_pk = ?1 AND concept_pk != ",
                                          c.pk, " AND version IN (", absl::StrJoin(doomed, ","),
                                          ") ORDER BY concept_pk"),
                             model.pk));
  }
  STAMINA_RETURN_IF_ERROR(DeleteVersions(db, model, doomed, blobs, report));
  std::vector<int64_t> drafts;
  for (const std::string& pk : orphaned) {
    STAMINA_RETURN_IF_ERROR(ExecWith(db,
                                     "UPDATE concepts SET state = 1 WHERE pk = ?1 AND NOT EXISTS"
                                     " (SELECT 1 FROM versions WHERE concept_pk = ?1)",
                                     std::stoll(pk)));
    if (db.changes() > 0) drafts.push_back(std::stoll(pk));
  }
  STAMINA_ASSIGN_OR_RETURN(
      std::vector<std::string> images,
      TextColumn(db, "SELECT digest FROM concept_images WHERE concept_pk = ?1", c.pk));
  report.image_references = static_cast<int64_t>(images.size());
  blobs.insert(images.begin(), images.end());
  STAMINA_ASSIGN_OR_RETURN(
      std::vector<std::string> jobs,
      TextColumn(db, "SELECT id FROM jobs WHERE concept_pk = ?1 ORDER BY pk", c.pk));
  for (const std::string& job : jobs) {
    report.jobs.push_back(absl::StrCat("models/", model_id, "/jobs/", job));
  }
  STAMINA_ASSIGN_OR_RETURN(
      Statement move_head,
      db.Prepare("UPDATE models SET head_version = ?2, update_time_us = ?3 WHERE pk = ?1"));
  STAMINA_RETURN_IF_ERROR(move_head.BindInt64(1, model.pk));
  STAMINA_RETURN_IF_ERROR(move_head.BindOptionalInt64(2, head));
  STAMINA_RETURN_IF_ERROR(move_head.BindInt64(3, now_us));
  STAMINA_RETURN_IF_ERROR(move_head.Run());
  STAMINA_RETURN_IF_ERROR(RecordDeletedJobEvents(db, "concept_pk", c.pk, now_us));
  for (const char* sql :
       {"DELETE FROM concept_images WHERE concept_pk = ?1",
        "DELETE FROM jobs WHERE concept_pk = ?1", "DELETE FROM concepts WHERE pk = ?1"}) {
    STAMINA_RETURN_IF_ERROR(ExecWith(db, sql, c.pk));
  }
  report.concepts.push_back(ConceptName(model_id, c.record.id));
  STAMINA_RETURN_IF_ERROR(CollectBlobs(db, tenant_id, blobs, report));
  return drafts;
}

}  // namespace stamina::storage
