#include "storage/sqlite_status.h"

#include "absl/strings/str_cat.h"

namespace stamina::storage {
namespace {

absl::StatusCode CodeFor(int extended_code) {
  switch (extended_code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return absl::StatusCode::kAlreadyExists;
    default:
      break;
  }
  switch (extended_code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return absl::StatusCode::kFailedPrecondition;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return absl::StatusCode::kResourceExhausted;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status SqliteStatus(int code, absl::string_view context,
                          absl::string_view sqlite_message) {
  if (code == SQLITE_OK || code == SQLITE_ROW || code == SQLITE_DONE) {
    return absl::OkStatus();
  }
  return absl::Status(CodeFor(code),
                      absl::StrCat(context, ": ", sqlite_message, " (",
                                   sqlite3_errstr(code), ", code ", code, ")"));
}

absl::Status SqliteStatus(sqlite3* db, int code, absl::string_view context) {
  if (db == nullptr) return SqliteStatus(code, context, sqlite3_errstr(code));
  const int extended = sqlite3_extended_errcode(db);
  // The connection's extended code refines `code` when they agree.
  const int best = (extended & 0xff) == (code & 0xff) ? extended : code;
  return SqliteStatus(best, context, sqlite3_errmsg(db));
}

}  // namespace stamina::storage
