// SqliteModelStore, continued: deletion that cascades and reports exactly
// what it erased. Split from sqlite_model_store.cc to keep files short.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "storage/erasure_rows.h"
#include "storage/job_rows.h"
#include "storage/model_rows.h"
#include "storage/sql_time.h"
#include "storage/sqlite_model_store.h"
#include "storage/webhook_rows.h"

namespace stamina::storage {

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
        TextColumn(db, "SELECT version FROM versions WHERE model_pk = ?1", model.pk));
    std::set<int64_t> doomed;
    for (const std::string& v : versions) doomed.insert(std::stoll(v));
    STAMINA_RETURN_IF_ERROR(DeleteVersions(db, model, doomed, blobs, report));
    STAMINA_ASSIGN_OR_RETURN(std::vector<std::string> images,
                             TextColumn(db,
                                        "SELECT ci.digest FROM concept_images ci JOIN concepts c"
                                        " ON c.pk = ci.concept_pk WHERE c.model_pk = ?1",
                                        model.pk));
    report.image_references = static_cast<int64_t>(images.size());
    blobs.insert(images.begin(), images.end());
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<std::string> jobs,
        TextColumn(db, "SELECT id FROM jobs WHERE model_pk = ?1 ORDER BY pk", model.pk));
    for (const std::string& job : jobs) {
      report.jobs.push_back(absl::StrCat("models/", model_id, "/jobs/", job));
    }
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<std::string> concepts,
        TextColumn(db, "SELECT id FROM concepts WHERE model_pk = ?1 ORDER BY pk", model.pk));
    for (const std::string& c : concepts) {
      report.concepts.push_back(ConceptName(model_id, c));
    }
    STAMINA_RETURN_IF_ERROR(
        RecordDeletedJobEvents(db, "model_pk", model.pk, ToMicros(options_.clock->Now())));
    for (const char* sql :
         {"DELETE FROM concept_images WHERE concept_pk IN"
          " (SELECT pk FROM concepts WHERE model_pk = ?1)",
          "DELETE FROM jobs WHERE model_pk = ?1", "DELETE FROM erased_versions WHERE model_pk = ?1",
          "DELETE FROM erasures WHERE model_pk = ?1", "DELETE FROM concepts WHERE model_pk = ?1",
          "DELETE FROM models WHERE pk = ?1"}) {
      STAMINA_RETURN_IF_ERROR(ExecWith(db, sql, model.pk));
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
        TextColumn(db, "SELECT id FROM jobs WHERE concept_pk = ?1 AND state = 2", c.pk));
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
    return DropConceptRows(db, tenant_id, model, c, doomed, result.head_version,
                           ToMicros(options_.clock->Now()), report)
        .status();
  }));
  return result;
}

}  // namespace stamina::storage
