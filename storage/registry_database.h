// File: storage/registry_database.h
//
// The registry's SQLite file, migrated to the current schema (schema.h), with
// one writer connection and a pool of read connections shared by the stores
// of this process. Every store operation runs in Read() or Write(): Write()
// holds an IMMEDIATE transaction on the writer, commits with
// synchronous=FULL before it returns OK (so an acknowledged write survives a
// crash or power loss) and rolls back on any error. Read() runs a deferred
// transaction on an idle read connection: WAL gives it a consistent snapshot
// of the last committed state, so reads (API-key lookups, GetJob, listings)
// neither wait for a write's fsync nor block it.
//
// This class is thread-safe: writes serialize on a mutex (SQLite allows one
// writer at a time anyway); reads run in parallel, up to `read_connections`
// at once, further readers waiting for a free connection. An in-memory
// registry (":memory:", tests) is private to its connection, so it reads on
// the writer. Other processes may open the same file; SQLite's locks and the
// busy timeout arbitrate.
#ifndef STAMINA_STORAGE_REGISTRY_DATABASE_H_
#define STAMINA_STORAGE_REGISTRY_DATABASE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/database.h"

namespace stamina::storage {

class RegistryDatabase {
 public:
  struct Options {
    // SQLite file; ":memory:" for a private in-memory registry (tests).
    std::string path;
    Database::Synchronous synchronous = Database::Synchronous::kFull;
    absl::Duration busy_timeout = absl::Seconds(5);
    // Read connections beside the writer; 0 reads on the writer (ignored,
    // and 0, for ":memory:").
    int read_connections = 4;
    // Idle prepared statements each connection keeps (Database::Options).
    int statement_cache_size = 64;
  };

  // Opens and migrates. FAILED_PRECONDITION for a newer, incompatible schema.
  static absl::StatusOr<std::unique_ptr<RegistryDatabase>> Open(
      Options options);

  // Runs `fn` in a write transaction; commits when it returns OK.
  absl::Status Write(absl::FunctionRef<absl::Status(Database&)> fn);
  // Runs `fn` in a read transaction (a consistent snapshot of the last
  // commit). `fn` must not write: read connections are query_only.
  absl::Status Read(absl::FunctionRef<absl::Status(Database&)> fn);

  // Read connections open beside the writer.
  int read_connections() const { return read_connections_; }

  // `PRAGMA integrity_check` → OK, or DATA_LOSS with SQLite's findings.
  absl::Status CheckIntegrity();

 private:
  explicit RegistryDatabase(std::unique_ptr<Database> db)
      : db_(std::move(db)) {}

  // Runs `fn` in a deferred transaction on `db`.
  static absl::Status ReadOn(Database& db, absl::FunctionRef<absl::Status(Database&)> fn);

  absl::Mutex mu_;
  std::unique_ptr<Database> db_ ABSL_GUARDED_BY(mu_);

  absl::Mutex readers_mu_;
  std::vector<std::unique_ptr<Database>> idle_readers_ ABSL_GUARDED_BY(readers_mu_);
  int read_connections_ = 0;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_REGISTRY_DATABASE_H_
