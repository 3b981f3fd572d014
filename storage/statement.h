// File: storage/statement.h
//
// A prepared SQLite statement (RAII over sqlite3_stmt). Parameters are bound
// by 1-based index; columns are read by 0-based index, as in SQLite's C API.
//
//   STAMINA_ASSIGN_OR_RETURN(Statement s, db.Prepare(
//       "SELECT state FROM jobs WHERE id = ?1"));
//   STAMINA_RETURN_IF_ERROR(s.BindText(1, job_id));
//   STAMINA_ASSIGN_OR_RETURN(bool row, s.Step());
//   if (!row) return absl::NotFoundError(...);
//   int64_t state = s.ColumnInt64(0);
//
// Not thread-safe; belongs to the connection (Database) that prepared it and
// must not outlive it. Movable, not copyable. Database::Prepare hands out
// statements from the connection's StatementCache (below).
#ifndef STAMINA_STORAGE_STATEMENT_H_
#define STAMINA_STORAGE_STATEMENT_H_

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace stamina::storage {

class StatementCache;

class Statement {
 public:
  // Takes ownership of `stmt` (prepared on `db`). With a `cache`, the
  // destructor hands the statement back to it (reset, bindings cleared)
  // instead of finalizing it.
  Statement(sqlite3* db, sqlite3_stmt* stmt, StatementCache* cache = nullptr);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  absl::Status BindInt64(int index, int64_t value);
  absl::Status BindDouble(int index, double value);
  // Copies `value` (SQLITE_TRANSIENT), so it may die before Step().
  absl::Status BindText(int index, absl::string_view value);
  absl::Status BindBlob(int index, absl::string_view bytes);
  absl::Status BindNull(int index);
  // Binds NULL for nullopt.
  absl::Status BindOptionalInt64(int index, std::optional<int64_t> value);

  // Advances: true when a row is available, false when the statement is done.
  absl::StatusOr<bool> Step();
  // Steps to completion, ignoring rows (for INSERT/UPDATE/DELETE).
  absl::Status Run();
  // Makes the statement ready to run again; bindings are kept.
  absl::Status Reset();
  // Resets and clears every binding.
  absl::Status ClearBindings();

  int ColumnCount() const;
  bool ColumnIsNull(int column) const;
  int64_t ColumnInt64(int column) const;
  double ColumnDouble(int column) const;
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;
  // nullopt for NULL.
  std::optional<int64_t> ColumnOptionalInt64(int column) const;

  // The SQL text, for messages.
  absl::string_view sql() const;

 private:
  absl::Status Check(int code, absl::string_view what) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  StatementCache* cache_ = nullptr;
};

// Idle prepared statements of one connection, by SQL text, so a query the
// registry runs on every call (an API-key lookup) is compiled once per
// connection rather than once per call. Not thread-safe: it belongs to one
// Database, which is used by one thread at a time.
class StatementCache {
 public:
  // Keeps at most `capacity` idle statements (0: none; every statement is
  // finalized when done).
  explicit StatementCache(int capacity) : capacity_(capacity) {}
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;
  ~StatementCache() { Clear(); }

  // Finalizes every idle statement.
  void Clear();

  // An idle statement for exactly `sql`, or null.
  sqlite3_stmt* Take(absl::string_view sql);
  // Resets `stmt`, clears its bindings and keeps it (or finalizes it when
  // full).
  void Return(sqlite3_stmt* stmt);

  int capacity() const { return capacity_; }
  int idle() const { return idle_count_; }
  int64_t hits() const { return hits_; }

 private:
  const int capacity_;
  int idle_count_ = 0;
  int64_t hits_ = 0;
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>> idle_;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_STATEMENT_H_
