#include "storage/transaction.h"

#include <utility>

#include "common/status_macros.h"

namespace stamina::storage {

absl::StatusOr<Transaction> Transaction::Begin(Database& db, Mode mode) {
  if (db.in_transaction()) {
    return absl::FailedPreconditionError(
        "a transaction is already open on this connection");
  }
  STAMINA_RETURN_IF_ERROR(db.Execute(
      mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"));
  return Transaction(&db);
}

Transaction::Transaction(Transaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)) {}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)Rollback();
}

absl::Status Transaction::Commit() {
  if (db_ == nullptr) {
    return absl::FailedPreconditionError("transaction already finished");
  }
  absl::Status status = db_->Execute("COMMIT");
  if (!status.ok()) {
    // A failed COMMIT (e.g. SQLITE_FULL) may leave the transaction open.
    if (db_->in_transaction()) (void)db_->Execute("ROLLBACK");
  }
  db_ = nullptr;
  return status;
}

absl::Status Transaction::Rollback() {
  if (db_ == nullptr) {
    return absl::FailedPreconditionError("transaction already finished");
  }
  Database* db = std::exchange(db_, nullptr);
  // SQLite may already have rolled back (e.g. after SQLITE_FULL).
  if (!db->in_transaction()) return absl::OkStatus();
  return db->Execute("ROLLBACK");
}

}  // namespace stamina::storage
