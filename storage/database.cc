#include "storage/database.h"

#include <climits>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/sqlite_status.h"

namespace stamina::storage {

absl::StatusOr<std::unique_ptr<Database>> Database::Open(Options options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("path: must not be empty");
  }
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (!options.must_exist) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  const int code = sqlite3_open_v2(options.path.c_str(), &raw, flags, nullptr);
  if (code != SQLITE_OK) {
    absl::Status status =
        SqliteStatus(raw, code, absl::StrCat("opening ", options.path));
    sqlite3_close_v2(raw);
    return status;
  }
  sqlite3_extended_result_codes(raw, 1);
  if (options.statement_cache_size < 0) {
    sqlite3_close_v2(raw);
    return absl::InvalidArgumentError("statement_cache_size: must be >= 0");
  }
  std::unique_ptr<Database> db(new Database(raw, options.path, options.statement_cache_size));
  STAMINA_RETURN_IF_ERROR(db->Configure(options))
      << "configuring " << options.path;
  return db;
}

absl::Status Database::Configure(const Options& options) {
  const int64_t timeout_ms = absl::ToInt64Milliseconds(options.busy_timeout);
  sqlite3_busy_timeout(
      db_, static_cast<int>(std::min<int64_t>(timeout_ms, INT_MAX)));
  // Reading the journal mode also validates that the file is a database.
  STAMINA_ASSIGN_OR_RETURN(Statement wal, Prepare("PRAGMA journal_mode=WAL"));
  STAMINA_ASSIGN_OR_RETURN(bool row, wal.Step());
  if (row && path_ != ":memory:" && wal.ColumnText(0) != "wal") {
    return absl::FailedPreconditionError(
        absl::StrCat("journal_mode is ", wal.ColumnText(0), ", not wal"));
  }
  STAMINA_RETURN_IF_ERROR(Execute("PRAGMA foreign_keys=ON"));
  return Execute(options.synchronous == Synchronous::kFull
                     ? "PRAGMA synchronous=FULL"
                     : "PRAGMA synchronous=NORMAL");
}

Database::~Database() {
  cache_.Clear();  // a connection with live statements would close late
  sqlite3_close_v2(db_);
}

absl::Status Database::Execute(absl::string_view sql) {
  const std::string text(sql);
  char* message = nullptr;
  const int code = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (code == SQLITE_OK) return absl::OkStatus();
  absl::Status status = SqliteStatus(
      code, absl::StrCat("executing \"", sql.substr(0, 200), "\""),
      message != nullptr ? message : sqlite3_errmsg(db_));
  sqlite3_free(message);
  // Refine with the extended code (e.g. UNIQUE vs FOREIGN KEY constraint).
  const int extended = sqlite3_extended_errcode(db_);
  if ((extended & 0xff) == (code & 0xff) && extended != code) {
    return SqliteStatus(extended,
                        absl::StrCat("executing \"", sql.substr(0, 200), "\""),
                        sqlite3_errmsg(db_));
  }
  return status;
}

absl::StatusOr<Statement> Database::Prepare(absl::string_view sql) {
  if (sqlite3_stmt* idle = cache_.Take(sql); idle != nullptr) {
    return Statement(db_, idle, &cache_);
  }
  sqlite3_stmt* stmt = nullptr;
  const int code = sqlite3_prepare_v3(db_, sql.data(),
                                      static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (code != SQLITE_OK) {
    return SqliteStatus(db_, code,
                        absl::StrCat("preparing \"", sql.substr(0, 200), "\""));
  }
  if (stmt == nullptr) {
    return absl::InternalError(
        absl::StrCat("preparing \"", sql, "\": no statement"));
  }
  return Statement(db_, stmt, cache_.capacity() > 0 ? &cache_ : nullptr);
}

absl::StatusOr<int64_t> Database::QueryInt64(absl::string_view sql) {
  STAMINA_ASSIGN_OR_RETURN(Statement statement, Prepare(sql));
  STAMINA_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) {
    return absl::InternalError(absl::StrCat("\"", sql, "\" returned no row"));
  }
  return statement.ColumnInt64(0);
}

int64_t Database::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

int64_t Database::changes() const { return sqlite3_changes64(db_); }

bool Database::in_transaction() const { return !sqlite3_get_autocommit(db_); }

}  // namespace stamina::storage
