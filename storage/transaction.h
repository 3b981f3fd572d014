// File: storage/transaction.h
//
// A scoped SQLite transaction that rolls back unless committed (Chromium's
// sql::Transaction):
//
//   STAMINA_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db));
//   STAMINA_RETURN_IF_ERROR(InsertJob(db, job));   // error → rolled back
//   return txn.Commit();
//
// kImmediate takes the write lock at Begin, so two writers never both read a
// snapshot and then collide at their first write (which SQLite cannot retry
// inside a transaction); use it for every read-modify-write.
//
// Not thread-safe; lives on the thread that owns the Database, which must
// outlive it. Movable, not copyable. Transactions do not nest.
#ifndef STAMINA_STORAGE_TRANSACTION_H_
#define STAMINA_STORAGE_TRANSACTION_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/database.h"

namespace stamina::storage {

class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate };

  // Starts a transaction. FAILED_PRECONDITION if one is already open on the
  // connection; UNAVAILABLE if the write lock stays busy past the timeout.
  static absl::StatusOr<Transaction> Begin(Database& db,
                                           Mode mode = Mode::kImmediate);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  // Rolls back if neither Commit() nor Rollback() succeeded.
  ~Transaction();

  // Makes the changes durable (per the Database's synchronous setting). On
  // error the transaction is rolled back.
  absl::Status Commit();
  absl::Status Rollback();

  bool active() const { return db_ != nullptr; }

 private:
  explicit Transaction(Database* db) : db_(db) {}

  Database* db_;  // null once finished
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_TRANSACTION_H_
