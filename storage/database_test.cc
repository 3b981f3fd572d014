#include "storage/database.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/statement.h"

namespace stamina::storage {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  return path;
}

TEST(DatabaseTest, OpensWithWalForeignKeysAndFullSync) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto db,
                               Database::Open({.path = TempPath("a.db")}));
  EXPECT_THAT(db->QueryInt64("PRAGMA foreign_keys"), IsOkAndHolds(1));
  EXPECT_THAT(db->QueryInt64("PRAGMA synchronous"), IsOkAndHolds(2));  // FULL
  STAMINA_ASSERT_OK_AND_ASSIGN(Statement mode,
                               db->Prepare("PRAGMA journal_mode"));
  STAMINA_ASSERT_OK_AND_ASSIGN(bool row, mode.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(mode.ColumnText(0), "wal");
  EXPECT_THAT(db->QueryInt64("PRAGMA busy_timeout"), IsOkAndHolds(5000));
}

TEST(DatabaseTest, NormalSyncOnRequest) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      auto db, Database::Open({.path = TempPath("n.db"),
                               .synchronous = Database::Synchronous::kNormal}));
  EXPECT_THAT(db->QueryInt64("PRAGMA synchronous"), IsOkAndHolds(1));
}

TEST(DatabaseTest, RejectsBadPaths) {
  EXPECT_THAT(Database::Open({.path = ""}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("path")));
  EXPECT_THAT(Database::Open({.path = TempPath("missing.db"), .must_exist = true}),
              StatusCodeIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(Database::Open({.path = "/nonexistent-dir/x.db"}),
              StatusCodeIs(absl::StatusCode::kFailedPrecondition));
}

TEST(DatabaseTest, GarbageFileIsDataLoss) {
  const std::string path = TempPath("garbage.db");
  std::ofstream(path) << std::string(4096, 'x');
  EXPECT_THAT(Database::Open({.path = path}),
              StatusCodeIs(absl::StatusCode::kDataLoss));
}

TEST(StatementTest, BindsAndReadsEveryType) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto db, Database::Open({.path = ":memory:"}));
  STAMINA_ASSERT_OK(
      db->Execute("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)"));
  STAMINA_ASSERT_OK_AND_ASSIGN(
      Statement insert, db->Prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)"));
  const std::string blob("\x00\x01\xff", 3);
  STAMINA_ASSERT_OK(insert.BindInt64(1, int64_t{1} << 40));
  STAMINA_ASSERT_OK(insert.BindDouble(2, 0.25));
  STAMINA_ASSERT_OK(insert.BindText(3, "<anna> ünïcode"));
  STAMINA_ASSERT_OK(insert.BindBlob(4, blob));
  STAMINA_ASSERT_OK(insert.BindNull(5));
  STAMINA_ASSERT_OK(insert.Run());
  EXPECT_EQ(db->changes(), 1);
  EXPECT_EQ(db->last_insert_rowid(), 1);

  STAMINA_ASSERT_OK_AND_ASSIGN(Statement select,
                               db->Prepare("SELECT i, d, s, b, n FROM t"));
  EXPECT_THAT(select.Step(), IsOkAndHolds(true));
  EXPECT_EQ(select.ColumnCount(), 5);
  EXPECT_EQ(select.ColumnInt64(0), int64_t{1} << 40);
  EXPECT_EQ(select.ColumnDouble(1), 0.25);
  EXPECT_EQ(select.ColumnText(2), "<anna> ünïcode");
  EXPECT_EQ(select.ColumnBlob(3), blob);
  EXPECT_TRUE(select.ColumnIsNull(4));
  EXPECT_THAT(select.Step(), IsOkAndHolds(false));
}

TEST(StatementTest, EmptyBlobIsNotNull) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto db, Database::Open({.path = ":memory:"}));
  STAMINA_ASSERT_OK_AND_ASSIGN(Statement s, db->Prepare("SELECT ?1 IS NULL"));
  STAMINA_ASSERT_OK(s.BindBlob(1, ""));
  EXPECT_THAT(s.Step(), IsOkAndHolds(true));
  EXPECT_EQ(s.ColumnInt64(0), 0);
}

TEST(StatementTest, ResetReusesBindings) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto db, Database::Open({.path = ":memory:"}));
  STAMINA_ASSERT_OK_AND_ASSIGN(Statement s, db->Prepare("SELECT ?1 * 2"));
  STAMINA_ASSERT_OK(s.BindInt64(1, 21));
  EXPECT_THAT(s.Step(), IsOkAndHolds(true));
  EXPECT_EQ(s.ColumnInt64(0), 42);
  STAMINA_ASSERT_OK(s.Reset());
  EXPECT_THAT(s.Step(), IsOkAndHolds(true));
  EXPECT_EQ(s.ColumnInt64(0), 42);
  STAMINA_ASSERT_OK(s.ClearBindings());
  EXPECT_THAT(s.Step(), IsOkAndHolds(true));
  EXPECT_TRUE(s.ColumnIsNull(0));
}

TEST(StatementTest, ConstraintViolationsMapToCodes) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto db, Database::Open({.path = ":memory:"}));
  STAMINA_ASSERT_OK(db->Execute(
      "CREATE TABLE models (id TEXT PRIMARY KEY);"
      "CREATE TABLE concepts (id TEXT PRIMARY KEY,"
      "  model TEXT NOT NULL REFERENCES models(id), token TEXT UNIQUE);"
      "INSERT INTO models VALUES ('m');"
      "INSERT INTO concepts VALUES ('c', 'm', '<anna>');"));
  EXPECT_THAT(db->Execute("INSERT INTO concepts VALUES ('d', 'm', '<anna>')"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("UNIQUE")));
  EXPECT_THAT(db->Execute("INSERT INTO models VALUES ('m')"),
              StatusCodeIs(absl::StatusCode::kAlreadyExists));
  STAMINA_ASSERT_OK_AND_ASSIGN(
      Statement orphan,
      db->Prepare("INSERT INTO concepts VALUES ('e', 'nope', '<e>')"));
  EXPECT_THAT(orphan.Run(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                     HasSubstr("FOREIGN KEY")));
}

TEST(DatabaseTest, SqlErrorsAreInternalAndQuoteTheSql) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto db, Database::Open({.path = ":memory:"}));
  EXPECT_THAT(db->Prepare("SELEC 1"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("SELEC 1")));
  EXPECT_THAT(db->QueryInt64("SELECT 1 WHERE 0"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("no row")));
}

TEST(DatabaseTest, DataSurvivesReopen) {
  const std::string path = TempPath("reopen.db");
  {
    STAMINA_ASSERT_OK_AND_ASSIGN(auto db, Database::Open({.path = path}));
    STAMINA_ASSERT_OK(db->Execute("CREATE TABLE t (x); INSERT INTO t VALUES (7)"));
  }
  STAMINA_ASSERT_OK_AND_ASSIGN(
      auto db, Database::Open({.path = path, .must_exist = true}));
  EXPECT_THAT(db->QueryInt64("SELECT x FROM t"), IsOkAndHolds(7));
}

// A statement prepared again from the same text comes from the cache, with
// its bindings cleared (no value from the last use leaks into the next), and
// a statement still in use is not handed out twice.
TEST(StatementCacheTest, ReusesIdleStatementsWithBindingsCleared) {
  auto db = Database::Open({.path = ":memory:", .statement_cache_size = 4});
  ASSERT_THAT(db.status(), IsOk());
  ASSERT_THAT((*db)->Execute("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a'), ('a'), (NULL)"),
              IsOk());
  constexpr absl::string_view kSql = "SELECT COUNT(*) FROM t WHERE x IS ?1";
  const int idle_before = (*db)->statement_cache().idle();  // Open's PRAGMA
  const int64_t hits_before = (*db)->statement_cache().hits();
  {
    STAMINA_ASSERT_OK_AND_ASSIGN(Statement first, (*db)->Prepare(kSql));
    ASSERT_THAT(first.BindText(1, "a"), IsOk());
    ASSERT_THAT(first.Step(), IsOkAndHolds(true));
    EXPECT_EQ(first.ColumnInt64(0), 2);
    // In use: a second Prepare compiles its own.
    STAMINA_ASSERT_OK_AND_ASSIGN(Statement second, (*db)->Prepare(kSql));
    EXPECT_EQ((*db)->statement_cache().hits(), hits_before);
  }
  EXPECT_EQ((*db)->statement_cache().idle(), idle_before + 2);
  STAMINA_ASSERT_OK_AND_ASSIGN(Statement again, (*db)->Prepare(kSql));
  EXPECT_EQ((*db)->statement_cache().hits(), hits_before + 1);
  ASSERT_THAT(again.Step(), IsOkAndHolds(true));  // ?1 unbound: NULL, not 'a'
  EXPECT_EQ(again.ColumnInt64(0), 1);
}

TEST(StatementCacheTest, KeepsNoMoreThanItsCapacity) {
  auto db = Database::Open({.path = ":memory:", .statement_cache_size = 1});
  ASSERT_THAT(db.status(), IsOk());
  {
    STAMINA_ASSERT_OK_AND_ASSIGN(Statement a, (*db)->Prepare("SELECT 1"));
    STAMINA_ASSERT_OK_AND_ASSIGN(Statement b, (*db)->Prepare("SELECT 2"));
  }
  EXPECT_EQ((*db)->statement_cache().idle(), 1);  // Open's PRAGMA, or one of these
  auto uncached = Database::Open({.path = ":memory:", .statement_cache_size = 0});
  ASSERT_THAT(uncached.status(), IsOk());
  { STAMINA_ASSERT_OK_AND_ASSIGN(Statement a, (*uncached)->Prepare("SELECT 1")); }
  EXPECT_EQ((*uncached)->statement_cache().idle(), 0);
  EXPECT_THAT(Database::Open({.path = ":memory:", .statement_cache_size = -1}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("statement_cache_size")));
}

}  // namespace
}  // namespace stamina::storage
