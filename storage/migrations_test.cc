#include "storage/migrations.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::storage {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::remove((path + suffix).c_str());
  }
  return path;
}

std::vector<Migration> V1() {
  return {{.version = 1, .description = "models",
           .sql = "CREATE TABLE models (id TEXT PRIMARY KEY)"}};
}

std::vector<Migration> V2() {
  std::vector<Migration> m = V1();
  // Adds a column old code can ignore: still usable by version-1 code.
  m.push_back({.version = 2, .description = "display names",
               .sql = "ALTER TABLE models ADD COLUMN display_name TEXT",
               .compatible_version = 1});
  return m;
}

std::vector<Migration> V3() {
  std::vector<Migration> m = V2();
  // Changes meaning: version-2 code must refuse the file.
  m.push_back({.version = 3, .description = "tenants",
               .sql = "CREATE TABLE tenants (id TEXT PRIMARY KEY);"
                      "ALTER TABLE models ADD COLUMN tenant TEXT"});
  return m;
}

TEST(MigrationsTest, NewDatabaseGetsEveryMigration) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto db, Database::Open({.path = ":memory:"}));
  STAMINA_ASSERT_OK_AND_ASSIGN(MigrationReport report, Migrate(*db, V3()));
  EXPECT_EQ(report.from_version, 0);
  EXPECT_EQ(report.to_version, 3);
  EXPECT_EQ(report.applied, 3);
  EXPECT_THAT(SchemaVersion(*db), IsOkAndHolds(3));
  EXPECT_THAT(CompatibleVersion(*db), IsOkAndHolds(3));
  STAMINA_EXPECT_OK(
      db->Execute("INSERT INTO models (id, display_name, tenant) "
                  "VALUES ('m', 'M', 't')"));
}

TEST(MigrationsTest, RerunIsANoOp) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto db, Database::Open({.path = ":memory:"}));
  STAMINA_ASSERT_OK(Migrate(*db, V2()));
  STAMINA_ASSERT_OK_AND_ASSIGN(MigrationReport again, Migrate(*db, V2()));
  EXPECT_EQ(again.applied, 0);
  EXPECT_EQ(again.to_version, 2);
}

TEST(MigrationsTest, UpgradesStepByStep) {
  const std::string path = TempPath("upgrade.db");
  {
    STAMINA_ASSERT_OK_AND_ASSIGN(auto db, Database::Open({.path = path}));
    STAMINA_ASSERT_OK(Migrate(*db, V1()));
    STAMINA_ASSERT_OK(db->Execute("INSERT INTO models VALUES ('kept')"));
  }
  STAMINA_ASSERT_OK_AND_ASSIGN(auto db, Database::Open({.path = path}));
  STAMINA_ASSERT_OK_AND_ASSIGN(MigrationReport report, Migrate(*db, V3()));
  EXPECT_EQ(report.from_version, 1);
  EXPECT_EQ(report.applied, 2);
  EXPECT_THAT(db->QueryInt64("SELECT count(*) FROM models WHERE id = 'kept'"),
              IsOkAndHolds(1));
}

TEST(MigrationsTest, OldBinaryOpensNewerCompatibleSchema) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto db, Database::Open({.path = ":memory:"}));
  STAMINA_ASSERT_OK(Migrate(*db, V2()));
  STAMINA_ASSERT_OK_AND_ASSIGN(MigrationReport report, Migrate(*db, V1()));
  EXPECT_EQ(report.applied, 0);
  EXPECT_EQ(report.to_version, 2);  // left as is
}

TEST(MigrationsTest, OldBinaryRefusesNewerIncompatibleSchema) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto db, Database::Open({.path = ":memory:"}));
  STAMINA_ASSERT_OK(Migrate(*db, V3()));
  EXPECT_THAT(Migrate(*db, V2()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("knows version 3 or newer")));
}

TEST(MigrationsTest, FailingMigrationRollsBackOnlyItsOwnStep) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto db, Database::Open({.path = ":memory:"}));
  std::vector<Migration> broken = V2();
  broken.push_back({.version = 3, .description = "broken",
                    .sql = "CREATE TABLE half (x); SELECT nonsense FROM nowhere"});
  EXPECT_THAT(Migrate(*db, broken),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("migration 3 (broken)")));
  EXPECT_THAT(SchemaVersion(*db), IsOkAndHolds(2));
  EXPECT_THAT(db->QueryInt64("SELECT count(*) FROM sqlite_schema "
                             "WHERE name = 'half'"),
              IsOkAndHolds(0));
  EXPECT_FALSE(db->in_transaction());
}

TEST(MigrationsTest, RejectsMalformedLists) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto db, Database::Open({.path = ":memory:"}));
  EXPECT_THAT(Migrate(*db, {{.version = 2, .sql = "SELECT 1"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("migrations[0].version")));
  EXPECT_THAT(Migrate(*db, {{.version = 1, .sql = "SELECT 1",
                             .compatible_version = 2}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("compatible_version")));
}

TEST(MigrationsTest, ConcurrentMigratorsAgree) {
  const std::string path = TempPath("race.db");
  STAMINA_ASSERT_OK_AND_ASSIGN(auto a, Database::Open({.path = path}));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto b, Database::Open({.path = path}));
  STAMINA_ASSERT_OK(Migrate(*a, V1()));
  // b read no version yet; it must notice a's work instead of re-running it.
  STAMINA_ASSERT_OK_AND_ASSIGN(MigrationReport report, Migrate(*b, V3()));
  EXPECT_EQ(report.to_version, 3);
  EXPECT_THAT(SchemaVersion(*a), IsOkAndHolds(3));
}

}  // namespace
}  // namespace stamina::storage
