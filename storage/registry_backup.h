// File: storage/registry_backup.h
//
// Online backups of the registry: a consistent copy of registry.db taken
// with SQLite's backup API from a read connection, so writes go on while it
// runs (WAL: the copy is the snapshot of the last commit when it started).
// The copy is written beside its final name, checked (PRAGMA quick_check),
// fsynced and renamed into place, so a backup file that exists is whole.
// Blobs need no such care: they are content-addressed and never rewritten.
//
// Thread-safe as RegistryDatabase::Read is; two backups at once are fine
// (distinct names).
#ifndef STAMINA_STORAGE_REGISTRY_BACKUP_H_
#define STAMINA_STORAGE_REGISTRY_BACKUP_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/registry_database.h"

namespace stamina::storage {

struct RegistryBackupOptions {
  // Where backups go (created if missing): registry-<UTC time>.db files.
  std::string directory;
  // Names the file (millisecond precision; later names sort later).
  absl::Time now;
  // Keep the newest `keep` backups of the directory, deleting older ones;
  // 0 keeps all.
  int keep = 0;
};

struct RegistryBackup {
  std::string path;
  int64_t bytes = 0;
  int pruned = 0;  // older backups deleted
};

// FAILED_PRECONDITION for an in-memory registry, INVALID_ARGUMENT for a
// negative `keep`, UNAVAILABLE/INTERNAL for I/O and SQLite failures (the
// partial file is removed).
absl::StatusOr<RegistryBackup> BackUpRegistry(RegistryDatabase& registry,
                                              const RegistryBackupOptions& options);

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_REGISTRY_BACKUP_H_
