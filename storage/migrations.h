// File: storage/migrations.h
//
// Versioned schema migrations with a compatibility check, after Chromium's
// sql::MetaTable: `PRAGMA user_version` holds the schema version, and a `meta`
// row holds the *compatible version*, the oldest schema version whose code can
// still use the file. A binary that knows versions 1..L therefore
//   - upgrades an older file, one migration per transaction (all or nothing
//     per step; a failed step leaves the previous version intact);
//   - opens a newer file as is when its compatible version is <= L (the newer
//     schema only added things old code ignores);
//   - refuses a newer file whose compatible version is > L
//     (FAILED_PRECONDITION), instead of corrupting it.
//
// Thread-safety: Migrate() needs exclusive use of the connection; concurrent
// Migrate() calls on other connections serialize on the write lock and the
// loser sees the winner's work.
#ifndef STAMINA_STORAGE_MIGRATIONS_H_
#define STAMINA_STORAGE_MIGRATIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/database.h"

namespace stamina::storage {

struct Migration {
  // 1 for the first migration, then consecutive.
  int version = 0;
  // What it does, for logs.
  std::string description;
  // The statements, run inside one transaction.
  std::string sql;
  // The oldest schema version whose code can use the database after this
  // migration; 0 means `version` (older code must refuse the file).
  int compatible_version = 0;
};

struct MigrationReport {
  int from_version = 0;
  int to_version = 0;
  int applied = 0;
};

// Brings `db` to the newest version in `migrations` (sorted by version,
// consecutive from 1). INVALID_ARGUMENT for a malformed list;
// FAILED_PRECONDITION for a newer, incompatible database; a failing
// migration's error, annotated with its version, otherwise.
absl::StatusOr<MigrationReport> Migrate(Database& db,
                                        const std::vector<Migration>& migrations);

// The schema version and compatible version stored in `db` (0, 0 for a new
// file).
absl::StatusOr<int> SchemaVersion(Database& db);
absl::StatusOr<int> CompatibleVersion(Database& db);

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_MIGRATIONS_H_
