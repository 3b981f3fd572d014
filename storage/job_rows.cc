#include "storage/job_rows.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/job_state.h"
#include "storage/sql_time.h"
#include "storage/webhook_rows.h"

namespace stamina::storage {

const char kJobSelect[] =
    "SELECT j.pk, j.model_pk, j.concept_pk, j.id, j.tenant_id, m.id, c.id,"
    "  coalesce(j.request_id, ''), j.settings, j.state, j.phase, j.step,"
    "  j.total_steps, j.loss, j.training_seconds, j.error_code,"
    "  j.error_message, j.error_retryable, j.attempt, j.cancel_requested,"
    "  coalesce(j.lease_owner, ''), j.parent_version, j.result_version,"
    "  j.create_time_us, j.start_time_us, j.end_time_us,"
    "  coalesce(j.lease_id, ''), coalesce(j.lease_expiry_us, 0),"
    "  (SELECT count(*) FROM jobs o WHERE o.model_pk = j.model_pk"
    "     AND o.pk < j.pk AND o.state IN (1, 2, 4)),"
    "  coalesce((SELECT o.id FROM jobs o WHERE o.model_pk = j.model_pk"
    "     AND o.pk < j.pk AND o.state = 4 ORDER BY o.pk LIMIT 1), ''),"
    "  j.webhook_url,"
    "  coalesce((SELECT e.id FROM erasures e WHERE e.pk = j.erasure_pk), ''),"
    "  j.replay_of_version"
    " FROM jobs j JOIN models m ON m.pk = j.model_pk"
    " JOIN concepts c ON c.pk = j.concept_pk ";

JobRow ReadJobRow(const Statement& row) {
  JobRow out;
  out.pk = row.ColumnInt64(0);
  out.model_pk = row.ColumnInt64(1);
  out.concept_pk = row.ColumnInt64(2);
  JobRecord& job = out.record;
  job.id = row.ColumnText(3);
  job.tenant_id = row.ColumnText(4);
  job.model_id = row.ColumnText(5);
  job.concept_id = row.ColumnText(6);
  job.request_id = row.ColumnText(7);
  job.settings = row.ColumnBlob(8);
  job.state = static_cast<JobState>(row.ColumnInt64(9));
  job.progress.phase = static_cast<JobPhase>(row.ColumnInt64(10));
  job.progress.step = static_cast<int32_t>(row.ColumnInt64(11));
  job.progress.total_steps = static_cast<int32_t>(row.ColumnInt64(12));
  job.progress.loss = static_cast<float>(row.ColumnDouble(13));
  job.progress.training_seconds = row.ColumnDouble(14);
  job.error.code = static_cast<int>(row.ColumnInt64(15));
  job.error.message = row.ColumnText(16);
  job.error.retryable = row.ColumnInt64(17) != 0;
  job.attempt = static_cast<int32_t>(row.ColumnInt64(18));
  job.cancel_requested = row.ColumnInt64(19) != 0;
  job.lease_owner = row.ColumnText(20);
  job.parent_version = row.ColumnOptionalInt64(21);
  job.result_version = row.ColumnOptionalInt64(22);
  job.create_time = FromMicros(row.ColumnInt64(23));
  job.start_time = FromMicros(row.ColumnOptionalInt64(24));
  job.end_time = FromMicros(row.ColumnOptionalInt64(25));
  out.lease_id = row.ColumnText(26);
  out.lease_expiry_us = row.ColumnInt64(27);
  job.open_jobs_ahead = row.ColumnInt64(28);
  if (job.state == JobState::kQueued) job.blocked_by_job_id = row.ColumnText(29);
  job.webhook_url = row.ColumnText(30);
  job.erasure_id = row.ColumnText(31);
  job.replay_of_version = row.ColumnOptionalInt64(32);
  return out;
}

absl::StatusOr<JobRow> FindJob(Database& db, const std::string& tenant_id,
                               const std::string& model_id,
                               const std::string& job_id) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement query,
      db.Prepare(absl::StrCat(kJobSelect,
                              "WHERE j.tenant_id = ?1 AND m.id = ?2 "
                              "AND j.id = ?3")));
  STAMINA_RETURN_IF_ERROR(query.BindText(1, tenant_id));
  STAMINA_RETURN_IF_ERROR(query.BindText(2, model_id));
  STAMINA_RETURN_IF_ERROR(query.BindText(3, job_id));
  STAMINA_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("models/", model_id, "/jobs/", job_id, " not found"));
  }
  return ReadJobRow(query);
}

absl::StatusOr<JobRow> FindLeasedJob(Database& db, const std::string& lease_id,
                                     int64_t now_us) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement query,
      db.Prepare(absl::StrCat(kJobSelect,
                              "WHERE j.lease_id = ?1 AND j.state = ?2")));
  STAMINA_RETURN_IF_ERROR(query.BindText(1, lease_id));
  STAMINA_RETURN_IF_ERROR(
      query.BindInt64(2, static_cast<int64_t>(JobState::kRunning)));
  STAMINA_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return absl::AbortedError(absl::StrCat(
        "lease ", lease_id, " lost: the job was re-queued, finished or deleted"));
  }
  JobRow row = ReadJobRow(query);
  if (row.lease_expiry_us <= now_us) {
    return absl::AbortedError(
        absl::StrCat("lease ", lease_id, " lost: it expired"));
  }
  return row;
}

absl::Status UpdateJobState(Database& db, int64_t job_pk, JobState state, int64_t now_us) {
  const bool running = state == JobState::kRunning;
  STAMINA_ASSIGN_OR_RETURN(
      Statement update,
      db.Prepare(running
                     ? "UPDATE jobs SET state = ?2 WHERE pk = ?1"
                     : "UPDATE jobs SET state = ?2, phase = 0, lease_id = NULL,"
                       " lease_owner = NULL, lease_expiry_us = NULL,"
                       " end_time_us = ?3 WHERE pk = ?1"));
  STAMINA_RETURN_IF_ERROR(update.BindInt64(1, job_pk));
  STAMINA_RETURN_IF_ERROR(update.BindInt64(2, static_cast<int64_t>(state)));
  if (!running) {
    STAMINA_RETURN_IF_ERROR(update.BindOptionalInt64(
        3, IsTerminal(state) || state == JobState::kFailed ? std::optional<int64_t>(now_us)
                                                           : std::nullopt));
  }
  STAMINA_RETURN_IF_ERROR(update.Run());
  return RecordJobEvent(db, job_pk, now_us);
}

absl::Status SetConceptState(Database& db, int64_t concept_pk,
                             ConceptState state) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement update,
      db.Prepare("UPDATE concepts SET state = ?2 WHERE pk = ?1"));
  STAMINA_RETURN_IF_ERROR(update.BindInt64(1, concept_pk));
  STAMINA_RETURN_IF_ERROR(update.BindInt64(2, static_cast<int64_t>(state)));
  return update.Run();
}

std::string JobName(const JobRecord& job) {
  return absl::StrCat("models/", job.model_id, "/jobs/", job.id);
}

}  // namespace stamina::storage
