#include "storage/sqlite_webhook_outbox.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/sql_time.h"

namespace stamina::storage {
namespace {

// Errors are kept for operators; a receiver's long answer is cut.
constexpr size_t kMaxErrorBytes = 500;

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteWebhookOutbox>> SqliteWebhookOutbox::Create(
    Options options) {
  if (options.db == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError("db and clock are required");
  }
  return std::unique_ptr<SqliteWebhookOutbox>(new SqliteWebhookOutbox(options));
}

absl::StatusOr<std::vector<OutboxEvent>> SqliteWebhookOutbox::Due(absl::Time now, int limit) {
  std::vector<OutboxEvent> events;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare("SELECT pk, id, tenant_id, url, type, body, attempts, create_time_us"
                   " FROM webhook_outbox w WHERE delivered_time_us IS NULL AND abandoned = 0"
                   " AND next_attempt_us <= ?1 AND NOT EXISTS (SELECT 1 FROM webhook_outbox o"
                   "   WHERE o.subject = w.subject AND o.pk < w.pk"
                   "   AND o.delivered_time_us IS NULL AND o.abandoned = 0)"
                   " ORDER BY pk LIMIT ?2"));
    STAMINA_RETURN_IF_ERROR(query.BindInt64(1, ToMicros(now)));
    STAMINA_RETURN_IF_ERROR(query.BindInt64(2, limit));
    for (;;) {
      STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
      if (!row) break;
      events.push_back({.pk = query.ColumnInt64(0),
                        .id = query.ColumnText(1),
                        .tenant_id = query.ColumnText(2),
                        .url = query.ColumnText(3),
                        .type = query.ColumnText(4),
                        .body = query.ColumnText(5),
                        .attempts = static_cast<int>(query.ColumnInt64(6)),
                        .create_time = FromMicros(query.ColumnInt64(7))});
    }
    return absl::OkStatus();
  }));
  return events;
}

absl::StatusOr<std::optional<absl::Time>> SqliteWebhookOutbox::NextDue() {
  std::optional<absl::Time> next;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(Statement query,
                             db.Prepare("SELECT min(next_attempt_us) FROM webhook_outbox w"
                                        " WHERE delivered_time_us IS NULL AND abandoned = 0"
                                        " AND NOT EXISTS (SELECT 1 FROM webhook_outbox o"
                                        "   WHERE o.subject = w.subject AND o.pk < w.pk"
                                        "   AND o.delivered_time_us IS NULL AND o.abandoned = 0)"));
    STAMINA_RETURN_IF_ERROR(query.Step().status());
    next = FromMicros(query.ColumnOptionalInt64(0));
    return absl::OkStatus();
  }));
  return next;
}

absl::Status SqliteWebhookOutbox::MarkDelivered(int64_t pk, absl::Time now) {
  return options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement update,
        db.Prepare("UPDATE webhook_outbox SET delivered_time_us = ?2, last_error = ''"
                   " WHERE pk = ?1"));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(1, pk));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(2, ToMicros(now)));
    return update.Run();
  });
}

absl::Status SqliteWebhookOutbox::Reschedule(int64_t pk, absl::Time next_attempt,
                                             const std::string& error) {
  return options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement update,
        db.Prepare("UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_us = ?2,"
                   " last_error = ?3 WHERE pk = ?1 AND delivered_time_us IS NULL"));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(1, pk));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(2, ToMicros(next_attempt)));
    STAMINA_RETURN_IF_ERROR(update.BindText(3, error.substr(0, kMaxErrorBytes)));
    return update.Run();
  });
}

absl::Status SqliteWebhookOutbox::Abandon(int64_t pk, const std::string& error) {
  return options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement update,
        db.Prepare("UPDATE webhook_outbox SET attempts = attempts + 1, abandoned = 1,"
                   " last_error = ?2 WHERE pk = ?1"));
    STAMINA_RETURN_IF_ERROR(update.BindInt64(1, pk));
    STAMINA_RETURN_IF_ERROR(update.BindText(2, error.substr(0, kMaxErrorBytes)));
    return update.Run();
  });
}

namespace {

// The secrets row, read in `db`; nullopt when the tenant has none.
absl::StatusOr<std::optional<TenantSecrets>> ReadSecrets(Database& db, const std::string& tenant_id,
                                                         int64_t now_us) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement query,
      db.Prepare("SELECT secret, CASE WHEN previous_expire_us > ?2 THEN previous_secret"
                 " ELSE '' END FROM webhook_secrets WHERE tenant_id = ?1"));
  STAMINA_RETURN_IF_ERROR(query.BindText(1, tenant_id));
  STAMINA_RETURN_IF_ERROR(query.BindInt64(2, now_us));
  STAMINA_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) return std::nullopt;
  return TenantSecrets{.current = query.ColumnText(0), .previous = query.ColumnText(1)};
}

}  // namespace

absl::StatusOr<TenantSecrets> SqliteWebhookOutbox::TenantSecret(const std::string& tenant_id,
                                                                const std::string& candidate) {
  const int64_t now_us = ToMicros(options_.clock->Now());
  std::optional<TenantSecrets> secrets;
  // Almost always there already: a read, not a write, per delivery.
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(secrets, ReadSecrets(db, tenant_id, now_us));
    return absl::OkStatus();
  }));
  if (secrets.has_value()) return *secrets;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement insert,
        db.Prepare("INSERT INTO webhook_secrets (tenant_id, secret, create_time_us)"
                   " VALUES (?1, ?2, ?3) ON CONFLICT (tenant_id) DO NOTHING"));
    STAMINA_RETURN_IF_ERROR(insert.BindText(1, tenant_id));
    STAMINA_RETURN_IF_ERROR(insert.BindText(2, candidate));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(3, now_us));
    absl::Status inserted = insert.Run();
    if (absl::IsFailedPrecondition(inserted)) {  // foreign key: no tenant
      return absl::NotFoundError(absl::StrCat("tenant ", tenant_id, " not found"));
    }
    STAMINA_RETURN_IF_ERROR(inserted);
    STAMINA_ASSIGN_OR_RETURN(secrets, ReadSecrets(db, tenant_id, now_us));
    return absl::OkStatus();
  }));
  if (!secrets.has_value()) return absl::InternalError("webhook secret vanished");
  return *secrets;
}

absl::Status SqliteWebhookOutbox::ReplaceTenantSecret(const std::string& tenant_id,
                                                      const std::string& secret,
                                                      absl::Time previous_valid_until) {
  return options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement upsert,
        db.Prepare("INSERT INTO webhook_secrets (tenant_id, secret, create_time_us)"
                   " VALUES (?1, ?2, ?3) ON CONFLICT (tenant_id) DO UPDATE SET"
                   " previous_secret = secret, previous_expire_us = ?4,"
                   " secret = excluded.secret, create_time_us = excluded.create_time_us"));
    STAMINA_RETURN_IF_ERROR(upsert.BindText(1, tenant_id));
    STAMINA_RETURN_IF_ERROR(upsert.BindText(2, secret));
    STAMINA_RETURN_IF_ERROR(upsert.BindInt64(3, ToMicros(options_.clock->Now())));
    STAMINA_RETURN_IF_ERROR(upsert.BindInt64(4, ToMicros(previous_valid_until)));
    absl::Status done = upsert.Run();
    if (absl::IsFailedPrecondition(done)) {
      return absl::NotFoundError(absl::StrCat("tenant ", tenant_id, " not found"));
    }
    return done;
  });
}

absl::StatusOr<int64_t> SqliteWebhookOutbox::Prune(absl::Time before) {
  int64_t pruned = 0;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(Statement prune,
                             db.Prepare("DELETE FROM webhook_outbox WHERE create_time_us < ?1"
                                        " AND (delivered_time_us IS NOT NULL OR abandoned = 1)"));
    STAMINA_RETURN_IF_ERROR(prune.BindInt64(1, ToMicros(before)));
    STAMINA_RETURN_IF_ERROR(prune.Run());
    pruned = db.changes();
    return absl::OkStatus();
  }));
  return pruned;
}

absl::StatusOr<OutboxCounts> SqliteWebhookOutbox::Count() {
  OutboxCounts counts;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare("SELECT coalesce(sum(delivered_time_us IS NULL AND abandoned = 0), 0),"
                   " coalesce(sum(delivered_time_us IS NOT NULL), 0), coalesce(sum(abandoned), 0)"
                   " FROM webhook_outbox"));
    STAMINA_RETURN_IF_ERROR(query.Step().status());
    counts = {.pending = query.ColumnInt64(0),
              .delivered = query.ColumnInt64(1),
              .abandoned = query.ColumnInt64(2)};
    return absl::OkStatus();
  }));
  return counts;
}

}  // namespace stamina::storage
