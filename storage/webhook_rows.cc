#include "storage/webhook_rows.h"

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

std::string JobEventBody(const JobRecord& job, int64_t now_us) {
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
      {"type", JobEventType(job.state)},
      {"timestamp", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", FromMicros(now_us),
                                     absl::UTCTimeZone())},
      {"data", data},
  };
  return event.dump();
}

absl::Status RecordJobEvent(Database& db, int64_t job_pk, int64_t now_us) {
  STAMINA_ASSIGN_OR_RETURN(Statement query,
                           db.Prepare(absl::StrCat(kJobSelect, "WHERE j.pk = ?1")));
  STAMINA_RETURN_IF_ERROR(query.BindInt64(1, job_pk));
  STAMINA_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) return absl::InternalError(absl::StrCat("job pk ", job_pk, " vanished"));
  const JobRecord job = ReadJobRow(query).record;
  if (job.webhook_url.empty()) return absl::OkStatus();
  STAMINA_ASSIGN_OR_RETURN(
      Statement insert,
      db.Prepare("INSERT INTO webhook_outbox (id, tenant_id, url, type, body,"
                 " create_time_us, next_attempt_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)"));
  STAMINA_RETURN_IF_ERROR(insert.BindText(1, absl::StrCat("msg_", RandomHex(16))));
  STAMINA_RETURN_IF_ERROR(insert.BindText(2, job.tenant_id));
  STAMINA_RETURN_IF_ERROR(insert.BindText(3, job.webhook_url));
  STAMINA_RETURN_IF_ERROR(insert.BindText(4, JobEventType(job.state)));
  STAMINA_RETURN_IF_ERROR(insert.BindText(5, JobEventBody(job, now_us)));
  STAMINA_RETURN_IF_ERROR(insert.BindInt64(6, now_us));
  return insert.Run();
}

}  // namespace stamina::storage
