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
#include "storage/database.h"
#include "storage/records.h"

namespace stamina::storage {

// "job.queued", "job.running", "job.succeeded", "job.failed", "job.cancelled".
std::string JobEventType(JobState state);

// The event payload for `job` at `now_us`, as sent (docs/api.md, Webhooks).
std::string JobEventBody(const JobRecord& job, int64_t now_us);

// Adds the event for job `job_pk`'s current state to the outbox, due now;
// nothing when the job has no webhook URL.
absl::Status RecordJobEvent(Database& db, int64_t job_pk, int64_t now_us);

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_WEBHOOK_ROWS_H_
