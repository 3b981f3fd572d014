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
  if (options.read_connections < 0) {
    return absl::InvalidArgumentError("read_connections: must be >= 0");
  }
  STAMINA_ASSIGN_OR_RETURN(
      std::unique_ptr<Database> db,
      Database::Open({.path = options.path,
                      .busy_timeout = options.busy_timeout,
                      .synchronous = options.synchronous,
                      .statement_cache_size = options.statement_cache_size}));
  STAMINA_RETURN_IF_ERROR(Migrate(*db, RegistryMigrations()).status())
      << "opening registry " << options.path;
  std::unique_ptr<RegistryDatabase> registry(new RegistryDatabase(std::move(db)));
  if (options.path == ":memory:") return registry;
  // Opened after the migration, so every reader sees the current schema.
  for (int i = 0; i < options.read_connections; ++i) {
    STAMINA_ASSIGN_OR_RETURN(std::unique_ptr<Database> reader,
                             Database::Open({.path = options.path,
                                             .busy_timeout = options.busy_timeout,
                                             .synchronous = options.synchronous,
                                             .must_exist = true,
                                             .statement_cache_size =
                                                 options.statement_cache_size}));
    STAMINA_RETURN_IF_ERROR(reader->Execute("PRAGMA query_only=ON"));
    absl::MutexLock lock(&registry->readers_mu_);
    registry->idle_readers_.push_back(std::move(reader));
  }
  registry->read_connections_ = options.read_connections;
  return registry;
}

absl::Status RegistryDatabase::Write(
    absl::FunctionRef<absl::Status(Database&)> fn) {
  absl::MutexLock lock(&mu_);
  STAMINA_ASSIGN_OR_RETURN(
      Transaction txn, Transaction::Begin(*db_, Transaction::Mode::kImmediate));
  STAMINA_RETURN_IF_ERROR(fn(*db_));
  return txn.Commit();
}

absl::Status RegistryDatabase::ReadOn(Database& db,
                                      absl::FunctionRef<absl::Status(Database&)> fn) {
  STAMINA_ASSIGN_OR_RETURN(Transaction txn,
                           Transaction::Begin(db, Transaction::Mode::kDeferred));
  STAMINA_RETURN_IF_ERROR(fn(db));
  return txn.Commit();
}

absl::Status RegistryDatabase::Read(
    absl::FunctionRef<absl::Status(Database&)> fn) {
  if (read_connections_ == 0) {
    absl::MutexLock lock(&mu_);
    return ReadOn(*db_, fn);
  }
  std::unique_ptr<Database> reader;
  {
    absl::MutexLock lock(&readers_mu_);
    readers_mu_.Await(absl::Condition(
        +[](std::vector<std::unique_ptr<Database>>* idle) { return !idle->empty(); },
        &idle_readers_));
    reader = std::move(idle_readers_.back());
    idle_readers_.pop_back();
  }
  // A failed statement or commit leaves no transaction open (Transaction
  // rolls back), so the connection goes back clean either way.
  absl::Status status = ReadOn(*reader, fn);
  absl::MutexLock lock(&readers_mu_);
  idle_readers_.push_back(std::move(reader));
  return status;
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
