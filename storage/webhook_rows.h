// File: storage/webhook_rows.h
//
// The webhook outbox's write side: RecordJobEvent() turns a job's current
// state into a Standard-Webhooks event ({"type", "timestamp", "data"}) and
// inserts it, with a fresh webhook-id, into webhook_outbox, inside the
// caller's transaction, so the event exists exactly when the state change
// does. The dispatcher (webhooks/dispatcher.h) delivers it later. Internal
// to storage/. Not thread-safe; callers run inside a RegistryDatabase
// transaction.
#ifndef STAMINA_STORAGE_WEBHOOK_ROWS_H_
#define STAMINA_STORAGE_WEBHOOK_ROWS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "storage/database.h"
#include "storage/records.h"

namespace stamina::storage {

// "job.queued", "job.running", "job.succeeded", "job.failed", "job.cancelled"
// ("job.deleted" is RecordDeletedJobEvents's).
std::string JobEventType(JobState state);

// The event payload for `job` at `now_us`, as sent (docs/api.md, Webhooks);
// `type` overrides the one its state gives.
std::string JobEventBody(const JobRecord& job, int64_t now_us, const std::string& type = "");

// Adds the event for job `job_pk`'s current state to the outbox, due now;
// nothing when the job has no webhook URL. `type` as JobEventBody's.
absl::Status RecordJobEvent(Database& db, int64_t job_pk, int64_t now_us,
                            const std::string& type = "");

// "job.deleted" events for the open (QUEUED, RUNNING, FAILED) jobs with a
// URL whose `column` ("model_pk" or "concept_pk") is `key`, before an
// erasure deletes them: their receivers learn they will never end.
absl::Status RecordDeletedJobEvents(Database& db, absl::string_view column, int64_t key,
                                    int64_t now_us);

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_WEBHOOK_ROWS_H_
