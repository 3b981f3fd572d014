// File: storage/webhook_outbox.h
//
// WebhookOutbox: the read side of the durable webhook outbox (events are
// written with the job changes they describe, webhook_rows.h) and the
// tenants' signing secrets. The dispatcher takes due events, and marks each
// delivered, rescheduled after a failed attempt, or abandoned after the
// last one; an event not marked (a crash mid-delivery) is due again, so a
// receiver may see it twice and deduplicates by its id.
//
// Implementations are thread-safe.
#ifndef STAMINA_STORAGE_WEBHOOK_OUTBOX_H_
#define STAMINA_STORAGE_WEBHOOK_OUTBOX_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace stamina::storage {

struct OutboxEvent {
  int64_t pk = 0;
  std::string id;  // webhook-id
  std::string tenant_id;
  std::string url;
  std::string type;
  std::string body;  // the JSON payload, as signed and sent
  int attempts = 0;  // failed attempts so far
  absl::Time create_time;
};

// The key that signs a tenant's deliveries, and for a while after a
// rotation the one before it (both sign, so receivers can switch over).
struct TenantSecrets {
  std::string current;
  std::string previous;  // "" when none, or its grace period is over
};

struct OutboxCounts {
  int64_t pending = 0;
  int64_t delivered = 0;
  int64_t abandoned = 0;
};

class WebhookOutbox {
 public:
  virtual ~WebhookOutbox() = default;

  // Undelivered, not abandoned events due at `now`, in the order they were
  // recorded, leaving out any event whose job has an older one pending (a
  // job's events are delivered in order).
  virtual absl::StatusOr<std::vector<OutboxEvent>> Due(absl::Time now, int limit) = 0;
  // When the next event Due() would return falls due; nullopt when none.
  virtual absl::StatusOr<std::optional<absl::Time>> NextDue() = 0;

  virtual absl::Status MarkDelivered(int64_t pk, absl::Time now) = 0;
  // One more failed attempt; due again at `next_attempt`.
  virtual absl::Status Reschedule(int64_t pk, absl::Time next_attempt,
                                  const std::string& error) = 0;
  // The last attempt failed: the event is kept, never sent again.
  virtual absl::Status Abandon(int64_t pk, const std::string& error) = 0;

  // The tenant's signing secrets; `candidate` becomes the current one if it
  // has none.
  virtual absl::StatusOr<TenantSecrets> TenantSecret(const std::string& tenant_id,
                                                     const std::string& candidate) = 0;
  // Replaces the tenant's secret; later deliveries are signed with it, and
  // with the one it replaces until `previous_valid_until`.
  virtual absl::Status ReplaceTenantSecret(const std::string& tenant_id, const std::string& secret,
                                           absl::Time previous_valid_until) = 0;

  // Deletes delivered and abandoned events recorded before `before` (the
  // outbox would otherwise grow with every job forever). Returns how many.
  virtual absl::StatusOr<int64_t> Prune(absl::Time before) = 0;

  virtual absl::StatusOr<OutboxCounts> Count() = 0;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_WEBHOOK_OUTBOX_H_
