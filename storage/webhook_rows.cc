#include "storage/webhook_rows.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "storage/job_rows.h"
#include "storage/job_state.h"
#include "storage/sha256.h"
#include "storage/sql_time.h"

namespace stamina::storage {

std::string JobEventType(JobState state) {
  return absl::StrCat("job.", absl::AsciiStrToLower(JobStateName(state)));
}

std::string JobEventBody(const JobRecord& job, int64_t now_us, const std::string& type) {
  const std::string model = absl::StrCat("models/", job.model_id);
  nlohmann::json data = {
      {"job", JobName(job)},
      {"model", model},
      {"concept", absl::StrCat(model, "/concepts/", job.concept_id)},
      {"state", absl::StrCat("JOB_STATE_", JobStateName(job.state))},
      {"attempt", job.attempt},
  };
  if (job.result_version.has_value()) {
    data["result_version"] = absl::StrCat(model, "/versions/", *job.result_version);
  }
  if (job.error.code != 0) {
    data["error"] = {{"code", job.error.code},
                     {"message", job.error.message},
                     {"retryable", job.error.retryable}};
  }
  const nlohmann::json event = {
      {"type", type.empty() ? JobEventType(job.state) : type},
      {"timestamp",
       absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", FromMicros(now_us), absl::UTCTimeZone())},
      {"data", data},
  };
  return event.dump();
}

absl::Status RecordJobEvent(Database& db, int64_t job_pk, int64_t now_us, const std::string& type) {
  STAMINA_ASSIGN_OR_RETURN(Statement query,
                           db.Prepare(absl::StrCat(kJobSelect, "WHERE j.pk = ?1")));
  STAMINA_RETURN_IF_ERROR(query.BindInt64(1, job_pk));
  STAMINA_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) return absl::InternalError(absl::StrCat("job pk ", job_pk, " vanished"));
  const JobRecord job = ReadJobRow(query).record;
  if (job.webhook_url.empty()) return absl::OkStatus();
  STAMINA_ASSIGN_OR_RETURN(
      Statement insert,
      db.Prepare("INSERT INTO webhook_outbox (id, tenant_id, url, subject, type, body,"
                 " create_time_us, next_attempt_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"));
  const std::string event_type = type.empty() ? JobEventType(job.state) : type;
  STAMINA_RETURN_IF_ERROR(insert.BindText(1, absl::StrCat("msg_", RandomHex(16))));
  STAMINA_RETURN_IF_ERROR(insert.BindText(2, job.tenant_id));
  STAMINA_RETURN_IF_ERROR(insert.BindText(3, job.webhook_url));
  STAMINA_RETURN_IF_ERROR(insert.BindText(4, JobName(job)));
  STAMINA_RETURN_IF_ERROR(insert.BindText(5, event_type));
  STAMINA_RETURN_IF_ERROR(insert.BindText(6, JobEventBody(job, now_us, event_type)));
  STAMINA_RETURN_IF_ERROR(insert.BindInt64(7, now_us));
  return insert.Run();
}

absl::Status RecordDeletedJobEvents(Database& db, absl::string_view column, int64_t key,
                                    int64_t now_us) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement open,
      db.Prepare(absl::StrCat("SELECT pk FROM jobs WHERE ", column,
                              " = ?1 AND state IN (1, 2, 4) AND webhook_url != '' ORDER BY pk")));
  STAMINA_RETURN_IF_ERROR(open.BindInt64(1, key));
  std::vector<int64_t> jobs;
  for (;;) {
    STAMINA_ASSIGN_OR_RETURN(bool row, open.Step());
    if (!row) break;
    jobs.push_back(open.ColumnInt64(0));
  }
  for (int64_t job : jobs) {
    STAMINA_RETURN_IF_ERROR(RecordJobEvent(db, job, now_us, "job.deleted"));
  }
  return absl::OkStatus();
}

}  // namespace stamina::storage
