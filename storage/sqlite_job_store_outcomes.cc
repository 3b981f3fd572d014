// SqliteJobStore, continued: how jobs end (complete, fail, cancel, retry)
// and the queue counts. Split from sqlite_job_store.cc to keep files short.
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/blob_rows.h"
#include "storage/job_rows.h"
#include "storage/job_state.h"
#include "storage/sql_time.h"
#include "storage/sqlite_job_store.h"

namespace stamina::storage {
namespace {

// Runs `change` on the tenant's job in one write transaction and returns the
// job as the change left it (NOT_FOUND as FindJob; `change`'s error rolls
// back).
absl::StatusOr<JobRecord> ChangeJob(
    RegistryDatabase& registry, const std::string& tenant_id,
    const std::string& model_id, const std::string& job_id,
    absl::FunctionRef<absl::Status(Database&, const JobRow&)> change) {
  JobRecord job;
  STAMINA_RETURN_IF_ERROR(registry.Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(JobRow row,
                             FindJob(db, tenant_id, model_id, job_id));
    STAMINA_RETURN_IF_ERROR(change(db, row));
    STAMINA_ASSIGN_OR_RETURN(row, FindJob(db, tenant_id, model_id, job_id));
    job = row.record;
    return absl::OkStatus();
  }));
  return job;
}

absl::Status CancelNow(Database& db, const JobRow& row, int64_t now_us) {
  STAMINA_RETURN_IF_ERROR(
      CheckJobTransition(row.record.id, row.record.state, JobState::kCancelled));
  STAMINA_RETURN_IF_ERROR(
      UpdateJobState(db, row.pk, JobState::kCancelled, now_us));
  return SetConceptState(db, row.concept_pk, ConceptState::kDraft);
}

absl::StatusOr<VersionRecord> CommitVersion(Database& db, const JobRow& row,
                                            const CompletedTraining& result,
                                            absl::Time now) {
  const int64_t now_us = ToMicros(now);
  STAMINA_RETURN_IF_ERROR(InsertBlobRow(db, result.adapter_digest,
                                        result.adapter_size_bytes,
                                        BlobKind::kAdapter, now_us));

  VersionRecord version;
  STAMINA_ASSIGN_OR_RETURN(
      Statement model,
      db.Prepare("SELECT m.next_version, m.base_digest, c.token,"
                 " coalesce((SELECT v.depth FROM versions v WHERE"
                 "   v.model_pk = m.pk AND v.version = ?3), 0)"
                 " FROM models m, concepts c WHERE m.pk = ?1 AND c.pk = ?2"));
  STAMINA_RETURN_IF_ERROR(model.BindInt64(1, row.model_pk));
  STAMINA_RETURN_IF_ERROR(model.BindInt64(2, row.concept_pk));
  STAMINA_RETURN_IF_ERROR(model.BindOptionalInt64(3, row.record.parent_version));
  STAMINA_ASSIGN_OR_RETURN(bool found, model.Step());
  if (!found) return absl::InternalError("job's model or concept vanished");
  version.tenant_id = row.record.tenant_id;
  version.model_id = row.record.model_id;
  version.version = model.ColumnInt64(0);
  version.parent_version = row.record.parent_version;
  version.concept_id = row.record.concept_id;
  version.token = model.ColumnText(2);
  version.job_id = row.record.id;
  version.adapter_digest = result.adapter_digest;
  version.base_digest = model.ColumnText(1);
  version.settings =
      result.settings.empty() ? row.record.settings : result.settings;
  version.metrics = result.metrics;
  version.depth = model.ColumnInt64(3) + 1;
  version.create_time = now;

  STAMINA_ASSIGN_OR_RETURN(
      Statement insert,
      db.Prepare("INSERT INTO versions (model_pk, version, parent_version,"
                 " concept_pk, token, job_pk, adapter_digest, base_digest,"
                 " settings, metrics, depth, create_time_us) VALUES"
                 " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
  STAMINA_RETURN_IF_ERROR(insert.BindInt64(1, row.model_pk));
  STAMINA_RETURN_IF_ERROR(insert.BindInt64(2, version.version));
  STAMINA_RETURN_IF_ERROR(insert.BindOptionalInt64(3, version.parent_version));
  STAMINA_RETURN_IF_ERROR(insert.BindInt64(4, row.concept_pk));
  STAMINA_RETURN_IF_ERROR(insert.BindText(5, version.token));
  STAMINA_RETURN_IF_ERROR(insert.BindInt64(6, row.pk));
  STAMINA_RETURN_IF_ERROR(insert.BindText(7, version.adapter_digest));
  STAMINA_RETURN_IF_ERROR(insert.BindText(8, version.base_digest));
  STAMINA_RETURN_IF_ERROR(insert.BindBlob(9, version.settings));
  STAMINA_RETURN_IF_ERROR(insert.BindBlob(10, version.metrics));
  STAMINA_RETURN_IF_ERROR(insert.BindInt64(11, version.depth));
  STAMINA_RETURN_IF_ERROR(insert.BindInt64(12, now_us));
  STAMINA_RETURN_IF_ERROR(insert.Run());

  STAMINA_ASSIGN_OR_RETURN(
      Statement head,
      db.Prepare("UPDATE models SET head_version = ?2, next_version = ?2 + 1,"
                 " update_time_us = ?3 WHERE pk = ?1"));
  STAMINA_RETURN_IF_ERROR(head.BindInt64(1, row.model_pk));
  STAMINA_RETURN_IF_ERROR(head.BindInt64(2, version.version));
  STAMINA_RETURN_IF_ERROR(head.BindInt64(3, now_us));
  STAMINA_RETURN_IF_ERROR(head.Run());
  STAMINA_RETURN_IF_ERROR(
      SetConceptState(db, row.concept_pk, ConceptState::kTrained));

  STAMINA_ASSIGN_OR_RETURN(
      Statement job,
      db.Prepare("UPDATE jobs SET result_version = ?2, settings = ?3,"
                 " step = total_steps WHERE pk = ?1"));
  STAMINA_RETURN_IF_ERROR(job.BindInt64(1, row.pk));
  STAMINA_RETURN_IF_ERROR(job.BindInt64(2, version.version));
  STAMINA_RETURN_IF_ERROR(job.BindBlob(3, version.settings));
  STAMINA_RETURN_IF_ERROR(job.Run());
  STAMINA_RETURN_IF_ERROR(
      CheckJobTransition(row.record.id, row.record.state, JobState::kSucceeded));
  STAMINA_RETURN_IF_ERROR(
      UpdateJobState(db, row.pk, JobState::kSucceeded, now_us));
  return version;
}

}  // namespace

absl::StatusOr<VersionRecord> SqliteJobStore::Complete(
    const std::string& lease_id, const CompletedTraining& result) {
  if (result.adapter_digest.empty()) {
    return absl::InvalidArgumentError("adapter_digest: required");
  }
  VersionRecord version;
  bool cancelled = false;
  std::string job_name;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    const absl::Time now = options_.clock->Now();
    STAMINA_ASSIGN_OR_RETURN(JobRow row,
                             FindLeasedJob(db, lease_id, ToMicros(now)));
    if (row.record.cancel_requested) {
      cancelled = true;
      job_name = JobName(row.record);
      return CancelNow(db, row, ToMicros(now));
    }
    STAMINA_ASSIGN_OR_RETURN(version, CommitVersion(db, row, result, now));
    return absl::OkStatus();
  }));
  if (cancelled) {
    return absl::CancelledError(absl::StrCat(
        job_name, " was cancelled before its version was committed"));
  }
  return version;
}

absl::StatusOr<JobState> SqliteJobStore::Fail(const std::string& lease_id,
                                              const JobErrorRecord& error,
                                              bool cancelled) {
  JobState state = JobState::kFailed;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    const int64_t now_us = ToMicros(options_.clock->Now());
    STAMINA_ASSIGN_OR_RETURN(JobRow row, FindLeasedJob(db, lease_id, now_us));
    if (cancelled) {
      state = JobState::kCancelled;
      return CancelNow(db, row, now_us);
    }
    STAMINA_ASSIGN_OR_RETURN(
        Statement record,
        db.Prepare("UPDATE jobs SET error_code = ?2, error_message = ?3,"
                   " error_retryable = ?4 WHERE pk = ?1"));
    STAMINA_RETURN_IF_ERROR(record.BindInt64(1, row.pk));
    STAMINA_RETURN_IF_ERROR(record.BindInt64(2, error.code));
    STAMINA_RETURN_IF_ERROR(record.BindText(3, error.message));
    STAMINA_RETURN_IF_ERROR(record.BindInt64(4, error.retryable ? 1 : 0));
    STAMINA_RETURN_IF_ERROR(record.Run());
    state = error.retryable && row.record.attempt < options_.max_attempts
                ? JobState::kQueued
                : JobState::kFailed;
    return UpdateJobState(db, row.pk, state, now_us);
  }));
  return state;
}

absl::StatusOr<JobRecord> SqliteJobStore::Cancel(const std::string& tenant_id,
                                                 const std::string& model_id,
                                                 const std::string& job_id) {
  return ChangeJob(
      *options_.db, tenant_id, model_id, job_id,
      [&](Database& db, const JobRow& row) -> absl::Status {
        const int64_t now_us = ToMicros(options_.clock->Now());
        if (row.record.state != JobState::kRunning) {
          return CancelNow(db, row, now_us);
        }
        if (row.record.progress.phase == JobPhase::kCommitting) {
          return absl::FailedPreconditionError(absl::StrCat(
              JobName(row.record), " is committing its version; too late to "
                                   "cancel"));
        }
        STAMINA_ASSIGN_OR_RETURN(
            Statement request,
            db.Prepare("UPDATE jobs SET cancel_requested = 1 WHERE pk = ?1"));
        STAMINA_RETURN_IF_ERROR(request.BindInt64(1, row.pk));
        return request.Run();
      });
}

absl::StatusOr<JobRecord> SqliteJobStore::Retry(const std::string& tenant_id,
                                                const std::string& model_id,
                                                const std::string& job_id) {
  return ChangeJob(
      *options_.db, tenant_id, model_id, job_id,
      [&](Database& db, const JobRow& row) -> absl::Status {
        if (row.record.state != JobState::kFailed) {
          return absl::FailedPreconditionError(
              absl::StrCat(JobName(row.record), " is ",
                           JobStateName(row.record.state),
                           "; only FAILED jobs can be retried"));
        }
        STAMINA_ASSIGN_OR_RETURN(
            Statement clear,
            db.Prepare("UPDATE jobs SET error_code = 0, error_message = '',"
                       " error_retryable = 0 WHERE pk = ?1"));
        STAMINA_RETURN_IF_ERROR(clear.BindInt64(1, row.pk));
        STAMINA_RETURN_IF_ERROR(clear.Run());
        return UpdateJobState(db, row.pk, JobState::kQueued, ToMicros(options_.clock->Now()));
      });
}

absl::StatusOr<JobCounts> SqliteJobStore::Count() {
  JobCounts counts;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare("SELECT state, count(*) FROM jobs WHERE state IN (1, 2, 4)"
                   " GROUP BY state"));
    while (true) {
      STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
      if (!row) break;
      const auto state = static_cast<JobState>(query.ColumnInt64(0));
      const int64_t n = query.ColumnInt64(1);
      if (state == JobState::kQueued) counts.queued = n;
      if (state == JobState::kRunning) counts.running = n;
      if (state == JobState::kFailed) counts.failed = n;
    }
    return absl::OkStatus();
  }));
  return counts;
}

}  // namespace stamina::storage
