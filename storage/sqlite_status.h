// File: storage/sqlite_status.h
//
// The one place SQLite result codes become absl::Status, chosen by what the
// caller should do next (docs/style.md §5.1):
//   SQLITE_BUSY / SQLITE_LOCKED      → UNAVAILABLE (retry the same call)
//   SQLITE_CONSTRAINT_UNIQUE / _PK   → ALREADY_EXISTS
//   other SQLITE_CONSTRAINT_*        → FAILED_PRECONDITION (e.g. foreign key)
//   SQLITE_CORRUPT / SQLITE_NOTADB   → DATA_LOSS
//   SQLITE_FULL / SQLITE_NOMEM       → RESOURCE_EXHAUSTED
//   SQLITE_CANTOPEN / SQLITE_READONLY / SQLITE_PERM → FAILED_PRECONDITION
//   anything else                    → INTERNAL
// Thread-safe: pure functions.
#ifndef STAMINA_STORAGE_SQLITE_STATUS_H_
#define STAMINA_STORAGE_SQLITE_STATUS_H_

#include <sqlite3.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace stamina::storage {

// Status for the extended result code `code`; the message is
// "<context>: <sqlite message> (<code name>)". OK for SQLITE_OK/ROW/DONE.
absl::Status SqliteStatus(int code, absl::string_view context,
                          absl::string_view sqlite_message);

// As above, reading the message and extended code of `db`'s last error.
absl::Status SqliteStatus(sqlite3* db, int code, absl::string_view context);

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_SQLITE_STATUS_H_
