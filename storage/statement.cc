#include "storage/statement.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/sqlite_status.h"

namespace stamina::storage {

namespace {

void Release(sqlite3_stmt* stmt, StatementCache* cache) {
  if (stmt == nullptr) return;
  if (cache != nullptr) {
    cache->Return(stmt);
  } else {
    sqlite3_finalize(stmt);
  }
}

}  // namespace

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, StatementCache* cache)
    : db_(db), stmt_(stmt), cache_(cache) {}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      cache_(std::exchange(other.cache_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Release(stmt_, cache_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    cache_ = std::exchange(other.cache_, nullptr);
  }
  return *this;
}

Statement::~Statement() { Release(stmt_, cache_); }

void StatementCache::Clear() {
  for (auto& [sql, statements] : idle_) {
    for (sqlite3_stmt* stmt : statements) sqlite3_finalize(stmt);
  }
  idle_.clear();
  idle_count_ = 0;
}

sqlite3_stmt* StatementCache::Take(absl::string_view sql) {
  auto it = idle_.find(std::string(sql));
  if (it == idle_.end() || it->second.empty()) return nullptr;
  sqlite3_stmt* stmt = it->second.back();
  it->second.pop_back();
  --idle_count_;
  ++hits_;
  return stmt;
}

void StatementCache::Return(sqlite3_stmt* stmt) {
  const char* sql = sqlite3_sql(stmt);
  if (idle_count_ >= capacity_ || sql == nullptr) {
    sqlite3_finalize(stmt);
    return;
  }
  // Ends any read the statement holds open (so it does not pin a WAL
  // snapshot) and drops bound values (so no secret lingers in it).
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  idle_[sql].push_back(stmt);
  ++idle_count_;
}

absl::Status Statement::Check(int code, absl::string_view what) const {
  if (code == SQLITE_OK) return absl::OkStatus();
  return SqliteStatus(db_, code, absl::StrCat(what, " in \"", sql(), "\""));
}

absl::Status Statement::BindInt64(int index, int64_t value) {
  return Check(sqlite3_bind_int64(stmt_, index, value), "bind");
}

absl::Status Statement::BindDouble(int index, double value) {
  return Check(sqlite3_bind_double(stmt_, index, value), "bind");
}

absl::Status Statement::BindText(int index, absl::string_view value) {
  return Check(sqlite3_bind_text64(stmt_, index, value.data(), value.size(),
                                   SQLITE_TRANSIENT, SQLITE_UTF8),
               "bind");
}

absl::Status Statement::BindBlob(int index, absl::string_view bytes) {
  // A zero-length blob must not be bound as NULL: pass a non-null pointer.
  static const char kEmpty = 0;
  return Check(
      sqlite3_bind_blob64(stmt_, index, bytes.empty() ? &kEmpty : bytes.data(),
                          bytes.size(), SQLITE_TRANSIENT),
      "bind");
}

absl::Status Statement::BindNull(int index) {
  return Check(sqlite3_bind_null(stmt_, index), "bind");
}

absl::Status Statement::BindOptionalInt64(int index,
                                          std::optional<int64_t> value) {
  return value.has_value() ? BindInt64(index, *value) : BindNull(index);
}

absl::StatusOr<bool> Statement::Step() {
  const int code = sqlite3_step(stmt_);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  return SqliteStatus(db_, code, absl::StrCat("step \"", sql(), "\""));
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

absl::Status Statement::Reset() {
  // sqlite3_reset repeats the last step's error; the step already reported it.
  sqlite3_reset(stmt_);
  return absl::OkStatus();
}

absl::Status Statement::ClearBindings() {
  sqlite3_reset(stmt_);
  return Check(sqlite3_clear_bindings(stmt_), "clear bindings");
}

int Statement::ColumnCount() const { return sqlite3_column_count(stmt_); }

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::ColumnInt64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double Statement::ColumnDouble(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(text),
                     sqlite3_column_bytes(stmt_, column));
}

std::string Statement::ColumnBlob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  if (blob == nullptr) return "";
  return std::string(static_cast<const char*>(blob),
                     sqlite3_column_bytes(stmt_, column));
}

std::optional<int64_t> Statement::ColumnOptionalInt64(int column) const {
  if (ColumnIsNull(column)) return std::nullopt;
  return ColumnInt64(column);
}

absl::string_view Statement::sql() const {
  const char* text = stmt_ == nullptr ? nullptr : sqlite3_sql(stmt_);
  return text == nullptr ? absl::string_view() : absl::string_view(text);
}

}  // namespace stamina::storage
