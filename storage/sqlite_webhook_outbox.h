// File: storage/sqlite_webhook_outbox.h
//
// WebhookOutbox on the registry's SQLite file (tables webhook_outbox and
// webhook_secrets, schema version 5). Thread-safe. The Clock is not owned
// and must outlive the outbox.
#ifndef STAMINA_STORAGE_SQLITE_WEBHOOK_OUTBOX_H_
#define STAMINA_STORAGE_SQLITE_WEBHOOK_OUTBOX_H_

#include <memory>

#include "common/clock.h"
#include "storage/registry_database.h"
#include "storage/webhook_outbox.h"

namespace stamina::storage {

class SqliteWebhookOutbox final : public WebhookOutbox {
 public:
  struct Options {
    RegistryDatabase* db = nullptr;  // not owned
    Clock* clock = nullptr;          // not owned
  };
  static absl::StatusOr<std::unique_ptr<SqliteWebhookOutbox>> Create(Options options);

  absl::StatusOr<std::vector<OutboxEvent>> Due(absl::Time now, int limit) override;
  absl::StatusOr<std::optional<absl::Time>> NextDue() override;
  absl::Status MarkDelivered(int64_t pk, absl::Time now) override;
  absl::Status Reschedule(int64_t pk, absl::Time next_attempt, const std::string& error) override;
  absl::Status Abandon(int64_t pk, const std::string& error) override;
  absl::StatusOr<TenantSecrets> TenantSecret(const std::string& tenant_id,
                                             const std::string& candidate) override;
  absl::Status ReplaceTenantSecret(const std::string& tenant_id, const std::string& secret,
                                   absl::Time previous_valid_until) override;
  absl::StatusOr<int64_t> Prune(absl::Time before) override;
  absl::StatusOr<OutboxCounts> Count() override;

 private:
  explicit SqliteWebhookOutbox(Options options) : options_(options) {}
  const Options options_;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_SQLITE_WEBHOOK_OUTBOX_H_
