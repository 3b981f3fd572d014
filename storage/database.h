// File: storage/database.h
//
// One SQLite connection, opened the way the registry needs it: WAL journal
// (readers never block the writer), foreign keys enforced, a busy timeout
// instead of instant SQLITE_BUSY, and synchronous=FULL by default so a
// committed transaction survives power loss before the client is told "OK".
//
//   STAMINA_ASSIGN_OR_RETURN(std::unique_ptr<Database> db,
//                            Database::Open({.path = dir + "/registry.db"}));
//   STAMINA_RETURN_IF_ERROR(db->Execute("CREATE TABLE t (x INTEGER)"));
//
// Not thread-safe: one connection per thread (or guard it). Several
// connections to one file may be used from several threads or processes;
// SQLite serializes writers.
#ifndef STAMINA_STORAGE_DATABASE_H_
#define STAMINA_STORAGE_DATABASE_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/statement.h"

namespace stamina::storage {

class Database {
 public:
  enum class Synchronous {
    // fsync at every commit of the WAL: acknowledged writes are durable.
    kFull,
    // WAL mode's NORMAL: a crash of the process loses nothing, a power loss
    // may lose the last transactions. For caches and benchmarks only.
    kNormal,
  };

  struct Options {
    // File path, or ":memory:" for a private in-memory database (tests).
    std::string path;
    // How long a statement waits for another connection's lock before it
    // fails with UNAVAILABLE.
    absl::Duration busy_timeout = absl::Seconds(5);
    Synchronous synchronous = Synchronous::kFull;
    // Open an existing file only (FAILED_PRECONDITION if it is missing).
    bool must_exist = false;
    // Idle prepared statements kept for reuse by Prepare (0: none).
    int statement_cache_size = 64;
  };

  // Opens (creating unless `must_exist`) and configures the connection.
  // Errors: INVALID_ARGUMENT (empty path), FAILED_PRECONDITION (cannot open),
  // DATA_LOSS (not a database).
  static absl::StatusOr<std::unique_ptr<Database>> Open(Options options);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more SQL statements without results.
  absl::Status Execute(absl::string_view sql);

  // Compiles one statement, or reuses an idle one compiled from the same
  // text (its bindings cleared). INVALID_ARGUMENT-like errors in SQL come
  // back as INTERNAL: SQL is the program's, not the user's.
  absl::StatusOr<Statement> Prepare(absl::string_view sql);

  const StatementCache& statement_cache() const { return cache_; }

  // Runs a statement that yields one integer (e.g. "PRAGMA user_version").
  absl::StatusOr<int64_t> QueryInt64(absl::string_view sql);

  // The rowid of the last successful INSERT on this connection.
  int64_t last_insert_rowid() const;
  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  int64_t changes() const;
  // Whether a transaction is open on this connection.
  bool in_transaction() const;

  const std::string& path() const { return path_; }
  sqlite3* raw() const { return db_; }

 private:
  Database(sqlite3* db, std::string path, int statement_cache_size)
      : db_(db), path_(std::move(path)), cache_(statement_cache_size) {}
  absl::Status Configure(const Options& options);

  sqlite3* db_;
  const std::string path_;
  StatementCache cache_;  // cleared before db_ is closed
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_DATABASE_H_
