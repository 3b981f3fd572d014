// SqliteErasureStore: EraseConcept in one write transaction (erasure_store.h).
#include "storage/sqlite_erasure_store.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "storage/erasure_rows.h"
#include "storage/job_rows.h"
#include "storage/model_rows.h"
#include "storage/request_rows.h"
#include "storage/sql_time.h"
#include "storage/webhook_rows.h"

namespace stamina::storage {
namespace {

std::string ErasureName(const std::string& model_id, const std::string& erasure_id) {
  return absl::StrCat("models/", model_id, "/erasures/", erasure_id);
}

// One step of the head's chain that a replay trains again.
struct ReplayStep {
  int64_t version = 0;
  int64_t concept_pk = 0;
  std::string settings;
};

// The steps of the chain ending at `head` that come after `keep` (nullopt:
// the base), oldest first, without `erased_concept_pk`'s own step.
absl::StatusOr<std::vector<ReplayStep>> StepsAfter(Database& db, int64_t model_pk,
                                                   std::optional<int64_t> head,
                                                   std::optional<int64_t> keep,
                                                   int64_t erased_concept_pk) {
  STAMINA_ASSIGN_OR_RETURN(Statement step,
                           db.Prepare("SELECT parent_version, concept_pk, settings FROM versions"
                                      " WHERE model_pk = ?1 AND version = ?2"));
  std::vector<ReplayStep> steps;
  while (head.has_value() && head != keep) {
    STAMINA_RETURN_IF_ERROR(step.Reset());
    STAMINA_RETURN_IF_ERROR(step.BindInt64(1, model_pk));
    STAMINA_RETURN_IF_ERROR(step.BindInt64(2, *head));
    STAMINA_ASSIGN_OR_RETURN(bool found, step.Step());
    if (!found) return absl::InternalError("broken version chain");
    if (step.ColumnInt64(1) != erased_concept_pk) {
      steps.insert(
          steps.begin(),
          {.version = *head, .concept_pk = step.ColumnInt64(1), .settings = step.ColumnBlob(2)});
    }
    head = step.ColumnOptionalInt64(0);
  }
  return steps;
}

constexpr char kErasureSelect[] =
    "SELECT e.pk, m.tenant_id, m.id, e.id, e.concept_id, e.token, e.mode, e.requested_by,"
    " e.restart_version, e.replay_count, e.image_references, e.released_bytes,"
    " e.create_time_us, e.proof_prompt, e.drift_before, e.drift_after, e.proof_version"
    " FROM erasures e JOIN models m ON m.pk = e.model_pk ";

// Reads the erasure rows `query` selects (kErasureSelect), with their erased
// versions and replay jobs, the state derived from those jobs.
absl::StatusOr<std::vector<ErasureRecord>> ReadErasures(Database& db, Statement& query) {
  std::vector<std::pair<int64_t, ErasureRecord>> rows;
  while (true) {
    STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    ErasureRecord e;
    e.tenant_id = query.ColumnText(1);
    e.model_id = query.ColumnText(2);
    e.id = query.ColumnText(3);
    e.concept_id = query.ColumnText(4);
    e.token = query.ColumnText(5);
    e.mode = static_cast<ErasureMode>(query.ColumnInt64(6));
    e.requested_by = query.ColumnText(7);
    e.restart_version = query.ColumnOptionalInt64(8);
    e.replay_count = query.ColumnInt64(9);
    e.image_references = query.ColumnInt64(10);
    e.released_bytes = query.ColumnInt64(11);
    e.create_time = FromMicros(query.ColumnInt64(12));
    e.proof_prompt = query.ColumnText(13);
    if (!query.ColumnIsNull(14)) e.drift_before = query.ColumnDouble(14);
    if (!query.ColumnIsNull(15)) e.drift_after = query.ColumnDouble(15);
    e.proof_version = query.ColumnOptionalInt64(16);
    rows.emplace_back(query.ColumnInt64(0), std::move(e));
  }
  STAMINA_ASSIGN_OR_RETURN(
      Statement versions,
      db.Prepare("SELECT version, parent_version, concept_id, token, depth, create_time_us"
                 " FROM erased_versions WHERE erasure_pk = ?1 ORDER BY version"));
  STAMINA_ASSIGN_OR_RETURN(
      Statement jobs, db.Prepare("SELECT id, state FROM jobs WHERE erasure_pk = ?1 ORDER BY pk"));
  std::vector<ErasureRecord> out;
  for (auto& [pk, e] : rows) {
    STAMINA_RETURN_IF_ERROR(versions.Reset());
    STAMINA_RETURN_IF_ERROR(versions.BindInt64(1, pk));
    while (true) {
      STAMINA_ASSIGN_OR_RETURN(bool row, versions.Step());
      if (!row) break;
      e.erased_versions.push_back({.version = versions.ColumnInt64(0),
                                   .parent_version = versions.ColumnOptionalInt64(1),
                                   .concept_id = versions.ColumnText(2),
                                   .token = versions.ColumnText(3),
                                   .depth = versions.ColumnInt64(4),
                                   .create_time = FromMicros(versions.ColumnInt64(5))});
    }
    STAMINA_RETURN_IF_ERROR(jobs.Reset());
    STAMINA_RETURN_IF_ERROR(jobs.BindInt64(1, pk));
    int64_t open = 0;
    while (true) {
      STAMINA_ASSIGN_OR_RETURN(bool row, jobs.Step());
      if (!row) break;
      e.replay_job_ids.push_back(jobs.ColumnText(0));
      const auto state = static_cast<JobState>(jobs.ColumnInt64(1));
      if (state == JobState::kSucceeded) ++e.replay_succeeded;
      if (state == JobState::kQueued || state == JobState::kRunning || state == JobState::kFailed) {
        ++open;
      }
    }
    e.state = open > 0                               ? ErasureState::kReplaying
              : e.replay_succeeded == e.replay_count ? ErasureState::kSucceeded
                                                     : ErasureState::kIncomplete;
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<ErasureRecord> ReadErasure(Database& db, int64_t model_pk,
                                          const std::string& model_id,
                                          const std::string& erasure_id) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement query,
      db.Prepare(absl::StrCat(kErasureSelect, "WHERE e.model_pk = ?1 AND e.id = ?2")));
  STAMINA_RETURN_IF_ERROR(query.BindInt64(1, model_pk));
  STAMINA_RETURN_IF_ERROR(query.BindText(2, erasure_id));
  STAMINA_ASSIGN_OR_RETURN(std::vector<ErasureRecord> found, ReadErasures(db, query));
  if (found.empty()) {
    return absl::NotFoundError(absl::StrCat(ErasureName(model_id, erasure_id), " not found"));
  }
  return std::move(found.front());
}

// Queues the replay jobs, oldest step first, and moves the model's other open
// jobs behind them (a job's place in its model's queue is its pk).
absl::Status QueueReplays(Database& db, IdGenerator& ids, const ModelRow& model, int64_t erasure_pk,
                          const std::vector<ReplayStep>& steps, int64_t now_us) {
  if (steps.empty()) return absl::OkStatus();
  STAMINA_ASSIGN_OR_RETURN(
      std::vector<std::string> waiting,
      TextColumn(db, "SELECT pk FROM jobs WHERE model_pk = ?1 AND state IN (1, 2, 4) ORDER BY pk",
                 model.pk));
  STAMINA_ASSIGN_OR_RETURN(
      Statement insert,
      db.Prepare("INSERT INTO jobs (id, tenant_id, model_pk, concept_pk, settings, state,"
                 " create_time_us, webhook_url, erasure_pk, replay_of_version)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7, ?8, ?9)"));
  for (const ReplayStep& step : steps) {
    STAMINA_RETURN_IF_ERROR(
        ExecWith(db, "UPDATE concepts SET state = 2 WHERE pk = ?1", step.concept_pk));
    STAMINA_RETURN_IF_ERROR(insert.Reset());
    STAMINA_RETURN_IF_ERROR(insert.BindText(1, ids.NewId()));
    STAMINA_RETURN_IF_ERROR(insert.BindText(2, model.record.tenant_id));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(3, model.pk));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(4, step.concept_pk));
    STAMINA_RETURN_IF_ERROR(insert.BindBlob(5, step.settings));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(6, now_us));
    STAMINA_RETURN_IF_ERROR(insert.BindText(7, model.record.webhook_url));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(8, erasure_pk));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(9, step.version));
    STAMINA_RETURN_IF_ERROR(insert.Run());
    STAMINA_RETURN_IF_ERROR(RecordJobEvent(db, db.last_insert_rowid(), now_us));
  }
  for (const std::string& pk : waiting) {
    STAMINA_RETURN_IF_ERROR(ExecWith(
        db, "UPDATE jobs SET pk = (SELECT max(pk) + 1 FROM jobs) WHERE pk = ?1", std::stoll(pk)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteErasureStore>> SqliteErasureStore::Create(Options options) {
  if (options.db == nullptr || options.clock == nullptr || options.ids == nullptr) {
    return absl::InvalidArgumentError("db, clock and ids are required");
  }
  return std::unique_ptr<SqliteErasureStore>(new SqliteErasureStore(options));
}

absl::StatusOr<ErasureResult> SqliteErasureStore::EraseConcept(const ConceptErasure& request) {
  ErasureResult result;
  const RequestKey key{.tenant_id = request.tenant_id,
                       .method = "EraseConcept",
                       .request_id = request.request_id,
                       .request_sha256 = request.request_sha256};
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, request.tenant_id, request.model_id));
    STAMINA_ASSIGN_OR_RETURN(std::optional<std::string> made, FindRequest(db, key));
    if (made.has_value()) {  // a retry: what the first request made
      STAMINA_ASSIGN_OR_RETURN(result.erasure, ReadErasure(db, model.pk, model.record.id, *made));
      return absl::OkStatus();
    }
    STAMINA_ASSIGN_OR_RETURN(ConceptRow c, FindConcept(db, model, request.concept_id));
    const std::string name = ConceptName(request.model_id, request.concept_id);
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<std::string> running,
        TextColumn(db, "SELECT id FROM jobs WHERE concept_pk = ?1 AND state = 2", c.pk));
    if (!running.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(name, " is being trained by job ",
                                                        running.front(),
                                                        "; cancel it and wait for it to stop"));
    }
    STAMINA_ASSIGN_OR_RETURN(std::set<int64_t> doomed, VersionsWithConcept(db, model.pk, c.pk));
    if (doomed.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          name, " is folded into no version; DeleteConcept removes it and its images"));
    }
    STAMINA_ASSIGN_OR_RETURN(std::optional<int64_t> head,
                             SurvivingHead(db, model.pk, model.record.head_version, doomed));
    std::vector<ReplayStep> replays;
    if (request.mode == ErasureMode::kReplay) {
      STAMINA_ASSIGN_OR_RETURN(replays,
                               StepsAfter(db, model.pk, model.record.head_version, head, c.pk));
    }
    const int64_t now_us = ToMicros(options_.clock->Now());
    const std::string erasure_id = options_.ids->NewId();
    STAMINA_ASSIGN_OR_RETURN(
        Statement insert,
        db.Prepare("INSERT INTO erasures (id, model_pk, concept_id, token, mode, requested_by,"
                   " restart_version, replay_count, create_time_us, proof_prompt, drift_before)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
    STAMINA_RETURN_IF_ERROR(insert.BindText(1, erasure_id));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(2, model.pk));
    STAMINA_RETURN_IF_ERROR(insert.BindText(3, c.record.id));
    STAMINA_RETURN_IF_ERROR(insert.BindText(4, c.record.token));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(5, static_cast<int64_t>(request.mode)));
    STAMINA_RETURN_IF_ERROR(insert.BindText(6, request.requested_by));
    STAMINA_RETURN_IF_ERROR(insert.BindOptionalInt64(7, head));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(8, static_cast<int64_t>(replays.size())));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(9, now_us));
    STAMINA_RETURN_IF_ERROR(insert.BindText(10, request.proof_prompt));
    if (request.drift_before.has_value()) {
      STAMINA_RETURN_IF_ERROR(insert.BindDouble(11, *request.drift_before));
    } else {
      STAMINA_RETURN_IF_ERROR(insert.BindNull(11));
    }
    STAMINA_RETURN_IF_ERROR(insert.Run());
    const int64_t erasure_pk = db.last_insert_rowid();
    STAMINA_RETURN_IF_ERROR(ExecWith(
        db,
        absl::StrCat("INSERT INTO erased_versions (model_pk, version, parent_version, concept_id,"
                     " token, depth, create_time_us, erasure_pk) SELECT v.model_pk, v.version,"
                     " v.parent_version, c.id, v.token, v.depth, v.create_time_us, ",
                     erasure_pk,
                     " FROM versions v JOIN concepts c ON c.pk = v.concept_pk"
                     " WHERE v.model_pk = ?1 AND v.version IN (",
                     absl::StrJoin(doomed, ","), ")"),
        model.pk));
    STAMINA_RETURN_IF_ERROR(
        DropConceptRows(db, request.tenant_id, model, c, doomed, head, now_us, result.erased)
            .status());
    STAMINA_RETURN_IF_ERROR(QueueReplays(db, *options_.ids, model, erasure_pk, replays, now_us));
    STAMINA_ASSIGN_OR_RETURN(
        Statement totals,
        db.Prepare("UPDATE erasures SET image_references = ?2, released_bytes = ?3 WHERE pk = ?1"));
    STAMINA_RETURN_IF_ERROR(totals.BindInt64(1, erasure_pk));
    STAMINA_RETURN_IF_ERROR(totals.BindInt64(2, result.erased.image_references));
    STAMINA_RETURN_IF_ERROR(totals.BindInt64(3, result.erased.released_bytes));
    STAMINA_RETURN_IF_ERROR(totals.Run());
    STAMINA_RETURN_IF_ERROR(RememberRequest(db, key, erasure_id, now_us));
    STAMINA_ASSIGN_OR_RETURN(result.erasure,
                             ReadErasure(db, model.pk, model.record.id, erasure_id));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<ErasureRecord> SqliteErasureStore::GetErasure(const std::string& tenant_id,
                                                             const std::string& model_id,
                                                             const std::string& erasure_id) {
  ErasureRecord erasure;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    STAMINA_ASSIGN_OR_RETURN(erasure, ReadErasure(db, model.pk, model_id, erasure_id));
    return absl::OkStatus();
  }));
  return erasure;
}

absl::StatusOr<std::vector<ErasureRecord>> SqliteErasureStore::ListErasures(
    const std::string& tenant_id, const std::string& model_id) {
  std::vector<ErasureRecord> erasures;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare(absl::StrCat(kErasureSelect, "WHERE e.model_pk = ?1 ORDER BY e.pk")));
    STAMINA_RETURN_IF_ERROR(query.BindInt64(1, model.pk));
    STAMINA_ASSIGN_OR_RETURN(erasures, ReadErasures(db, query));
    return absl::OkStatus();
  }));
  return erasures;
}

absl::Status SqliteErasureStore::RecordDriftAfter(const std::string& tenant_id,
                                                  const std::string& model_id,
                                                  const std::string& erasure_id, int64_t version,
                                                  double drift) {
  return options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    STAMINA_ASSIGN_OR_RETURN(Statement update,
                             db.Prepare("UPDATE erasures SET drift_after = ?3, proof_version = ?4"
                                        " WHERE model_pk = ?1 AND id = ?2"));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(1, model.pk));
    STAMINA_RETURN_IF_ERROR(update.BindText(2, erasure_id));
    STAMINA_RETURN_IF_ERROR(update.BindDouble(3, drift));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(4, version));
    STAMINA_RETURN_IF_ERROR(update.Run());
    if (db.changes() == 0) {
      return absl::NotFoundError(absl::StrCat(ErasureName(model_id, erasure_id), " not found"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<ErasureRecord>> SqliteErasureStore::ErasureOfVersion(
    const std::string& tenant_id, const std::string& model_id, int64_t version) {
  std::optional<ErasureRecord> erasure;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare(absl::StrCat(kErasureSelect,
                                "WHERE e.pk = (SELECT erasure_pk FROM erased_versions"
                                " WHERE model_pk = ?1 AND version = ?2)")));
    STAMINA_RETURN_IF_ERROR(query.BindInt64(1, model.pk));
    STAMINA_RETURN_IF_ERROR(query.BindInt64(2, version));
    STAMINA_ASSIGN_OR_RETURN(std::vector<ErasureRecord> found, ReadErasures(db, query));
    if (!found.empty()) erasure = std::move(found.front());
    return absl::OkStatus();
  }));
  return erasure;
}

}  // namespace stamina::storage
