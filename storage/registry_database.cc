#include "storage/registry_database.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/migrations.h"
#include "storage/schema.h"
#include "storage/transaction.h"

namespace stamina::storage {

absl::StatusOr<std::unique_ptr<RegistryDatabase>> RegistryDatabase::Open(
    Options options) {
  STAMINA_ASSIGN_OR_RETURN(
      std::unique_ptr<Database> db,
      Database::Open({.path = options.path,
                      .busy_timeout = options.busy_timeout,
                      .synchronous = options.synchronous}));
  STAMINA_RETURN_IF_ERROR(Migrate(*db, RegistryMigrations()).status())
      << "opening registry " << options.path;
  return std::unique_ptr<RegistryDatabase>(new RegistryDatabase(std::move(db)));
}

absl::Status RegistryDatabase::Write(
    absl::FunctionRef<absl::Status(Database&)> fn) {
  absl::MutexLock lock(&mu_);
  STAMINA_ASSIGN_OR_RETURN(
      Transaction txn, Transaction::Begin(*db_, Transaction::Mode::kImmediate));
  STAMINA_RETURN_IF_ERROR(fn(*db_));
  return txn.Commit();
}

absl::Status RegistryDatabase::Read(
    absl::FunctionRef<absl::Status(Database&)> fn) {
  absl::MutexLock lock(&mu_);
  STAMINA_ASSIGN_OR_RETURN(
      Transaction txn, Transaction::Begin(*db_, Transaction::Mode::kDeferred));
  STAMINA_RETURN_IF_ERROR(fn(*db_));
  return txn.Commit();
}

absl::Status RegistryDatabase::CheckIntegrity() {
  absl::MutexLock lock(&mu_);
  STAMINA_ASSIGN_OR_RETURN(Statement check,
                           db_->Prepare("PRAGMA integrity_check"));
  std::string findings;
  while (true) {
    STAMINA_ASSIGN_OR_RETURN(bool row, check.Step());
    if (!row) break;
    const std::string line = check.ColumnText(0);
    if (line != "ok") absl::StrAppend(&findings, line, "; ");
  }
  if (!findings.empty()) {
    return absl::DataLossError(
        absl::StrCat("integrity_check of ", db_->path(), ": ", findings));
  }
  return absl::OkStatus();
}

}  // namespace stamina::storage
