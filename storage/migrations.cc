#include "storage/migrations.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/transaction.h"

namespace stamina::storage {
namespace {

constexpr char kCreateMeta[] =
    "CREATE TABLE IF NOT EXISTS meta ("
    "  key TEXT PRIMARY KEY NOT NULL,"
    "  value INTEGER NOT NULL)";

absl::Status ValidateList(const std::vector<Migration>& migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    const Migration& m = migrations[i];
    if (m.version != static_cast<int>(i) + 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("migrations[", i, "].version is ", m.version,
                       "; versions must run 1, 2, 3, ..."));
    }
    if (m.compatible_version < 0 || m.compatible_version > m.version) {
      return absl::InvalidArgumentError(
          absl::StrCat("migrations[", i, "].compatible_version ",
                       m.compatible_version, " is not in [0, ", m.version, "]"));
    }
  }
  return absl::OkStatus();
}

absl::Status Apply(Database& db, const Migration& m) {
  STAMINA_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db));
  // Another connection may have migrated while we waited for the lock.
  STAMINA_ASSIGN_OR_RETURN(int64_t current,
                           db.QueryInt64("PRAGMA user_version"));
  if (current >= m.version) return txn.Commit();
  STAMINA_RETURN_IF_ERROR(db.Execute(kCreateMeta));
  STAMINA_RETURN_IF_ERROR(db.Execute(m.sql));
  STAMINA_ASSIGN_OR_RETURN(
      Statement meta,
      db.Prepare("INSERT INTO meta (key, value) VALUES ('compatible_version', ?1)"
                 " ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
  STAMINA_RETURN_IF_ERROR(meta.BindInt64(
      1, m.compatible_version == 0 ? m.version : m.compatible_version));
  STAMINA_RETURN_IF_ERROR(meta.Run());
  STAMINA_RETURN_IF_ERROR(
      db.Execute(absl::StrCat("PRAGMA user_version = ", m.version)));
  return txn.Commit();
}

}  // namespace

absl::StatusOr<int> SchemaVersion(Database& db) {
  STAMINA_ASSIGN_OR_RETURN(int64_t version,
                           db.QueryInt64("PRAGMA user_version"));
  return static_cast<int>(version);
}

absl::StatusOr<int> CompatibleVersion(Database& db) {
  STAMINA_ASSIGN_OR_RETURN(
      int64_t has_meta,
      db.QueryInt64("SELECT count(*) FROM sqlite_schema "
                    "WHERE type = 'table' AND name = 'meta'"));
  if (has_meta == 0) return 0;
  STAMINA_ASSIGN_OR_RETURN(
      Statement query,
      db.Prepare("SELECT value FROM meta WHERE key = 'compatible_version'"));
  STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
  return row ? static_cast<int>(query.ColumnInt64(0)) : 0;
}

absl::StatusOr<MigrationReport> Migrate(
    Database& db, const std::vector<Migration>& migrations) {
  STAMINA_RETURN_IF_ERROR(ValidateList(migrations));
  const int latest = static_cast<int>(migrations.size());
  MigrationReport report;
  STAMINA_ASSIGN_OR_RETURN(report.from_version, SchemaVersion(db));
  report.to_version = report.from_version;
  if (report.from_version > latest) {
    STAMINA_ASSIGN_OR_RETURN(int compatible, CompatibleVersion(db));
    if (compatible > latest) {
      return absl::FailedPreconditionError(absl::StrCat(
          db.path(), " has schema version ", report.from_version,
          ", usable only by code that knows version ", compatible,
          " or newer; this binary knows up to ", latest,
          ". Upgrade the binary."));
    }
    return report;  // newer but compatible: use as is
  }
  for (int v = report.from_version + 1; v <= latest; ++v) {
    const Migration& m = migrations[v - 1];
    STAMINA_RETURN_IF_ERROR(Apply(db, m))
        << "migration " << m.version << " (" << m.description << ")";
    report.to_version = v;
    ++report.applied;
  }
  return report;
}

}  // namespace stamina::storage
