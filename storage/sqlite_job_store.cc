#include "storage/sqlite_job_store.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "storage/job_rows.h"
#include "storage/job_state.h"
#include "storage/paging.h"
#include "storage/sql_time.h"
#include "storage/webhook_rows.h"

namespace stamina::storage {
namespace {

constexpr int64_t kQueued = static_cast<int64_t>(JobState::kQueued);
constexpr int64_t kRunning = static_cast<int64_t>(JobState::kRunning);
constexpr int kUnavailableCode = 14;  // google.rpc.Code UNAVAILABLE

// The first open job of each model is its only candidate; it is runnable when
// QUEUED. Among candidates the tenant served longest ago goes first.
constexpr char kNextRunnable[] =
    "SELECT j.pk, j.tenant_id, j.model_pk FROM jobs j"
    " JOIN tenants t ON t.id = j.tenant_id"
    " WHERE j.state = 1 AND j.pk = (SELECT min(o.pk) FROM jobs o"
    "   WHERE o.model_pk = j.model_pk AND o.state IN (1, 2, 4))"
    " ORDER BY t.last_claim_seq, j.pk LIMIT 1";

absl::StatusOr<int64_t> ModelPk(Database& db, const std::string& tenant_id,
                                const std::string& model_id) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement query,
      db.Prepare("SELECT pk FROM models WHERE tenant_id = ?1 AND id = ?2"));
  STAMINA_RETURN_IF_ERROR(query.BindText(1, tenant_id));
  STAMINA_RETURN_IF_ERROR(query.BindText(2, model_id));
  STAMINA_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return absl::NotFoundError(absl::StrCat("models/", model_id, " not found"));
  }
  return query.ColumnInt64(0);
}

absl::StatusOr<int64_t> Int64Query(Database& db, absl::string_view sql,
                                   int64_t arg) {
  STAMINA_ASSIGN_OR_RETURN(Statement query, db.Prepare(sql));
  STAMINA_RETURN_IF_ERROR(query.BindInt64(1, arg));
  STAMINA_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) return absl::InternalError(absl::StrCat("no row: ", sql));
  return query.ColumnInt64(0);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteJobStore>> SqliteJobStore::Create(
    Options options) {
  if (options.db == nullptr || options.clock == nullptr ||
      options.ids == nullptr) {
    return absl::InvalidArgumentError("db, clock and ids are required");
  }
  if (options.max_open_jobs_per_tenant < 0 ||
      options.min_images_per_concept < 0 || options.max_attempts < 1) {
    return absl::InvalidArgumentError("limits must be non-negative");
  }
  return std::unique_ptr<SqliteJobStore>(new SqliteJobStore(options));
}

absl::StatusOr<JobRecord> SqliteJobStore::Create(const NewJob& job) {
  JobRecord created;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(int64_t model_pk,
                             ModelPk(db, job.tenant_id, job.model_id));
    if (!job.request_id.empty()) {
      STAMINA_ASSIGN_OR_RETURN(
          Statement prior,
          db.Prepare(absl::StrCat(kJobSelect,
                                  "WHERE j.tenant_id = ?1 AND j.request_id = ?2")));
      STAMINA_RETURN_IF_ERROR(prior.BindText(1, job.tenant_id));
      STAMINA_RETURN_IF_ERROR(prior.BindText(2, job.request_id));
      STAMINA_ASSIGN_OR_RETURN(bool found, prior.Step());
      if (found) {
        STAMINA_ASSIGN_OR_RETURN(
            Statement fingerprint,
            db.Prepare("SELECT request_fingerprint FROM jobs WHERE pk = ?1"));
        JobRow row = ReadJobRow(prior);
        STAMINA_RETURN_IF_ERROR(fingerprint.BindInt64(1, row.pk));
        STAMINA_RETURN_IF_ERROR(fingerprint.Step().status());
        if (fingerprint.ColumnText(0) != job.request_fingerprint) {
          return absl::AlreadyExistsError(absl::StrCat(
              "request_id \"", job.request_id, "\" was already used by ",
              JobName(row.record), " for a different request"));
        }
        created = row.record;
        return absl::OkStatus();
      }
    }
    STAMINA_ASSIGN_OR_RETURN(
        Statement concept,
        db.Prepare("SELECT pk, state, (SELECT count(*) FROM concept_images ci"
                   " WHERE ci.concept_pk = c.pk) FROM concepts c"
                   " WHERE model_pk = ?1 AND id = ?2"));
    STAMINA_RETURN_IF_ERROR(concept.BindInt64(1, model_pk));
    STAMINA_RETURN_IF_ERROR(concept.BindText(2, job.concept_id));
    STAMINA_ASSIGN_OR_RETURN(bool concept_found, concept.Step());
    const std::string concept_name =
        absl::StrCat("models/", job.model_id, "/concepts/", job.concept_id);
    if (!concept_found) {
      return absl::NotFoundError(absl::StrCat(concept_name, " not found"));
    }
    const int64_t concept_pk = concept.ColumnInt64(0);
    if (static_cast<ConceptState>(concept.ColumnInt64(1)) !=
        ConceptState::kDraft) {
      return absl::FailedPreconditionError(absl::StrCat(
          concept_name, " is already being trained or trained"));
    }
    if (concept.ColumnInt64(2) < options_.min_images_per_concept) {
      return absl::FailedPreconditionError(absl::StrCat(
          concept_name, " has ", concept.ColumnInt64(2), " images; at least ",
          options_.min_images_per_concept, " are needed"));
    }
    if (options_.max_open_jobs_per_tenant > 0) {
      STAMINA_ASSIGN_OR_RETURN(
          Statement open,
          db.Prepare("SELECT count(*) FROM jobs WHERE tenant_id = ?1"
                     " AND state IN (1, 2, 4)"));
      STAMINA_RETURN_IF_ERROR(open.BindText(1, job.tenant_id));
      STAMINA_RETURN_IF_ERROR(open.Step().status());
      if (open.ColumnInt64(0) >= options_.max_open_jobs_per_tenant) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "the tenant has ", open.ColumnInt64(0),
            " open jobs, the limit; retry when some finish"));
      }
    }
    const std::string job_id = options_.ids->NewId();
    STAMINA_ASSIGN_OR_RETURN(
        Statement insert,
        db.Prepare("INSERT INTO jobs (id, tenant_id, model_pk, concept_pk,"
                   " request_id, request_fingerprint, settings, state,"
                   " create_time_us, webhook_url) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8,"
                   " coalesce(nullif(?9, ''), (SELECT webhook_url FROM models WHERE pk = ?3)))"));
    STAMINA_RETURN_IF_ERROR(insert.BindText(1, job_id));
    STAMINA_RETURN_IF_ERROR(insert.BindText(2, job.tenant_id));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(3, model_pk));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(4, concept_pk));
    if (job.request_id.empty()) {
      STAMINA_RETURN_IF_ERROR(insert.BindNull(5));
    } else {
      STAMINA_RETURN_IF_ERROR(insert.BindText(5, job.request_id));
    }
    STAMINA_RETURN_IF_ERROR(insert.BindText(6, job.request_fingerprint));
    STAMINA_RETURN_IF_ERROR(insert.BindBlob(7, job.settings));
    const int64_t now_us = ToMicros(options_.clock->Now());
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(8, now_us));
    STAMINA_RETURN_IF_ERROR(insert.BindText(9, job.webhook_url));
    STAMINA_RETURN_IF_ERROR(insert.Run());
    STAMINA_RETURN_IF_ERROR(RecordJobEvent(db, db.last_insert_rowid(), now_us));
    STAMINA_RETURN_IF_ERROR(
        SetConceptState(db, concept_pk, ConceptState::kTraining));
    STAMINA_ASSIGN_OR_RETURN(
        JobRow row, FindJob(db, job.tenant_id, job.model_id, job_id));
    created = row.record;
    return absl::OkStatus();
  }));
  return created;
}

absl::StatusOr<JobRecord> SqliteJobStore::Get(const std::string& tenant_id,
                                              const std::string& model_id,
                                              const std::string& job_id) {
  JobRecord job;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(JobRow row,
                             FindJob(db, tenant_id, model_id, job_id));
    job = row.record;
    return absl::OkStatus();
  }));
  return job;
}

absl::StatusOr<JobPage> SqliteJobStore::List(const ListJobsQuery& query) {
  STAMINA_ASSIGN_OR_RETURN(
      PageRequest request,
      ParsePageRequest(query.page_size, query.page_token, "ListJobs"));
  const int page_size = request.size;
  const int64_t before_pk = request.before_key;
  std::vector<std::string> states;
  for (JobState state : query.states) {
    states.push_back(absl::StrCat(static_cast<int>(state)));
  }
  std::string sql = absl::StrCat(kJobSelect,
                                 "WHERE j.tenant_id = ?1 AND j.pk < ?2");
  if (!query.model_id.empty()) absl::StrAppend(&sql, " AND m.id = ?3");
  if (!states.empty()) {
    absl::StrAppend(&sql, " AND j.state IN (", absl::StrJoin(states, ","), ")");
  }
  absl::StrAppend(&sql, " ORDER BY j.pk DESC LIMIT ", page_size + 1);
  JobPage page;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    if (!query.model_id.empty()) {
      STAMINA_RETURN_IF_ERROR(
          ModelPk(db, query.tenant_id, query.model_id).status());
    }
    STAMINA_ASSIGN_OR_RETURN(Statement select, db.Prepare(sql));
    STAMINA_RETURN_IF_ERROR(select.BindText(1, query.tenant_id));
    STAMINA_RETURN_IF_ERROR(select.BindInt64(2, before_pk));
    if (!query.model_id.empty()) {
      STAMINA_RETURN_IF_ERROR(select.BindText(3, query.model_id));
    }
    int64_t last_pk = 0;
    while (true) {
      STAMINA_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      if (static_cast<int>(page.jobs.size()) == page_size) {
        page.next_page_token = absl::StrCat(last_pk);
        break;
      }
      JobRow job = ReadJobRow(select);
      last_pk = job.pk;
      page.jobs.push_back(std::move(job.record));
    }
    return absl::OkStatus();
  }));
  return page;
}

namespace {

// Re-queues (or fails, or cancels) every RUNNING job whose lease expired.
absl::StatusOr<int> RequeueExpired(Database& db, int64_t now_us,
                                   int max_attempts) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement expired,
      db.Prepare("SELECT pk, attempt, cancel_requested, concept_pk FROM jobs"
                 " WHERE state = 2 AND lease_expiry_us <= ?1"));
  STAMINA_RETURN_IF_ERROR(expired.BindInt64(1, now_us));
  struct Expired {
    int64_t pk, attempt;
    bool cancel_requested;
    int64_t concept_pk;
  };
  std::vector<Expired> rows;
  while (true) {
    STAMINA_ASSIGN_OR_RETURN(bool row, expired.Step());
    if (!row) break;
    rows.push_back({expired.ColumnInt64(0), expired.ColumnInt64(1),
                    expired.ColumnInt64(2) != 0, expired.ColumnInt64(3)});
  }
  for (const Expired& job : rows) {
    if (job.cancel_requested) {
      STAMINA_RETURN_IF_ERROR(
          UpdateJobState(db, job.pk, JobState::kCancelled, now_us));
      STAMINA_RETURN_IF_ERROR(
          SetConceptState(db, job.concept_pk, ConceptState::kDraft));
    } else if (job.attempt >= max_attempts) {
      STAMINA_ASSIGN_OR_RETURN(
          Statement error,
          db.Prepare("UPDATE jobs SET error_code = ?2, error_message = ?3,"
                     " error_retryable = 1 WHERE pk = ?1"));
      STAMINA_RETURN_IF_ERROR(error.BindInt64(1, job.pk));
      STAMINA_RETURN_IF_ERROR(error.BindInt64(2, kUnavailableCode));
      STAMINA_RETURN_IF_ERROR(error.BindText(
          3, absl::StrCat("the worker's lease expired on each of ",
                          job.attempt, " attempts")));
      STAMINA_RETURN_IF_ERROR(error.Run());
      STAMINA_RETURN_IF_ERROR(
          UpdateJobState(db, job.pk, JobState::kFailed, now_us));
    } else {
      STAMINA_RETURN_IF_ERROR(UpdateJobState(db, job.pk, JobState::kQueued, now_us));
    }
  }
  return static_cast<int>(rows.size());
}

}  // namespace

absl::StatusOr<int> SqliteJobStore::RequeueExpiredLeases() {
  int count = 0;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(count,
                             RequeueExpired(db, ToMicros(options_.clock->Now()),
                                            options_.max_attempts));
    return absl::OkStatus();
  }));
  return count;
}

absl::StatusOr<std::optional<JobLease>> SqliteJobStore::Claim(
    const std::string& worker, absl::Duration ttl) {
  if (worker.empty()) return absl::InvalidArgumentError("worker: required");
  if (ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ttl: must be positive");
  }
  std::optional<JobLease> lease;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    const absl::Time now = options_.clock->Now();
    STAMINA_RETURN_IF_ERROR(
        RequeueExpired(db, ToMicros(now), options_.max_attempts).status());
    STAMINA_ASSIGN_OR_RETURN(Statement next, db.Prepare(kNextRunnable));
    STAMINA_ASSIGN_OR_RETURN(bool found, next.Step());
    if (!found) return absl::OkStatus();
    const int64_t job_pk = next.ColumnInt64(0);
    const std::string tenant_id = next.ColumnText(1);
    const int64_t model_pk = next.ColumnInt64(2);

    STAMINA_ASSIGN_OR_RETURN(
        int64_t seq,
        Int64Query(db,
                   "UPDATE counters SET value = value + ?1"
                   " WHERE name = 'claim_seq' RETURNING value",
                   1));
    STAMINA_ASSIGN_OR_RETURN(
        Statement served,
        db.Prepare("UPDATE tenants SET last_claim_seq = ?2 WHERE id = ?1"));
    STAMINA_RETURN_IF_ERROR(served.BindText(1, tenant_id));
    STAMINA_RETURN_IF_ERROR(served.BindInt64(2, seq));
    STAMINA_RETURN_IF_ERROR(served.Run());

    JobLease result;
    result.lease_id = options_.ids->NewId();
    result.expire_time = now + ttl;
    STAMINA_ASSIGN_OR_RETURN(
        Statement claim,
        db.Prepare("UPDATE jobs SET state = 2, phase = 1, attempt = attempt + 1,"
                   " lease_id = ?2, lease_owner = ?3, lease_expiry_us = ?4,"
                   " start_time_us = ?5, end_time_us = NULL, step = 0,"
                   " loss = 0, parent_version = (SELECT head_version FROM models"
                   " WHERE pk = ?6) WHERE pk = ?1"));
    STAMINA_RETURN_IF_ERROR(claim.BindInt64(1, job_pk));
    STAMINA_RETURN_IF_ERROR(claim.BindText(2, result.lease_id));
    STAMINA_RETURN_IF_ERROR(claim.BindText(3, worker));
    STAMINA_RETURN_IF_ERROR(claim.BindInt64(4, ToMicros(result.expire_time)));
    STAMINA_RETURN_IF_ERROR(claim.BindInt64(5, ToMicros(now)));
    STAMINA_RETURN_IF_ERROR(claim.BindInt64(6, model_pk));
    STAMINA_RETURN_IF_ERROR(claim.Run());
    STAMINA_RETURN_IF_ERROR(RecordJobEvent(db, job_pk, ToMicros(now)));
    STAMINA_ASSIGN_OR_RETURN(JobRow row,
                             FindLeasedJob(db, result.lease_id, ToMicros(now)));
    result.job = row.record;
    lease = std::move(result);
    return absl::OkStatus();
  }));
  return lease;
}

absl::StatusOr<JobRecord> SqliteJobStore::GetLeased(const std::string& lease_id) {
  JobRecord job;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        JobRow row, FindLeasedJob(db, lease_id, ToMicros(options_.clock->Now())));
    job = row.record;
    return absl::OkStatus();
  }));
  return job;
}

absl::StatusOr<HeartbeatResult> SqliteJobStore::Heartbeat(
    const std::string& lease_id, const JobProgressRecord& progress,
    absl::Duration ttl) {
  if (ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ttl: must be positive");
  }
  HeartbeatResult result;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    const absl::Time now = options_.clock->Now();
    STAMINA_ASSIGN_OR_RETURN(JobRow row,
                             FindLeasedJob(db, lease_id, ToMicros(now)));
    result.expire_time = now + ttl;
    result.cancel_requested = row.record.cancel_requested;
    const JobPhase phase = progress.phase == JobPhase::kNone
                               ? row.record.progress.phase
                               : progress.phase;
    STAMINA_ASSIGN_OR_RETURN(
        Statement update,
        db.Prepare("UPDATE jobs SET phase = ?2, step = ?3, total_steps = ?4,"
                   " loss = ?5, training_seconds = ?6, lease_expiry_us = ?7"
                   " WHERE pk = ?1"));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(1, row.pk));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(2, static_cast<int64_t>(phase)));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(3, progress.step));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(4, progress.total_steps));
    STAMINA_RETURN_IF_ERROR(update.BindDouble(5, progress.loss));
    STAMINA_RETURN_IF_ERROR(update.BindDouble(6, progress.training_seconds));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(7, ToMicros(result.expire_time)));
    return update.Run();
  }));
  return result;
}

}  // namespace stamina::storage
