// File: storage/registry_database.h
//
// The registry's SQLite file, migrated to the current schema (schema.h), with
// one connection shared by the stores of this process. Every store operation
// runs in Read() or Write(): Write() holds an IMMEDIATE transaction, commits
// with synchronous=FULL before it returns OK (so an acknowledged write
// survives a crash or power loss) and rolls back on any error.
//
// This class is thread-safe: calls serialize on a mutex (SQLite allows one
// writer at a time anyway; registry queries are short). Other processes may
// open the same file; SQLite's locks and the busy timeout arbitrate.
#ifndef STAMINA_STORAGE_REGISTRY_DATABASE_H_
#define STAMINA_STORAGE_REGISTRY_DATABASE_H_

#include <memory>
#include <string>

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
  };

  // Opens and migrates. FAILED_PRECONDITION for a newer, incompatible schema.
  static absl::StatusOr<std::unique_ptr<RegistryDatabase>> Open(
      Options options);

  // Runs `fn` in a write transaction; commits when it returns OK.
  absl::Status Write(absl::FunctionRef<absl::Status(Database&)> fn);
  // Runs `fn` in a read transaction (a consistent snapshot).
  absl::Status Read(absl::FunctionRef<absl::Status(Database&)> fn);

  // `PRAGMA integrity_check` → OK, or DATA_LOSS with SQLite's findings.
  absl::Status CheckIntegrity();

 private:
  explicit RegistryDatabase(std::unique_ptr<Database> db)
      : db_(std::move(db)) {}

  absl::Mutex mu_;
  std::unique_ptr<Database> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_REGISTRY_DATABASE_H_
