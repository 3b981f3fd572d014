#include "storage/registry_backup.h"

#include <sys/stat.h>

#include <atomic>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/database.h"
#include "storage/testing/test_registry.h"

namespace stamina::storage {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;

int64_t RowsIn(const std::string& path) {
  auto db = Database::Open({.path = path, .must_exist = true});
  EXPECT_THAT(db.status(), IsOk());
  if (!db.ok()) return -1;
  auto rows = (*db)->QueryInt64("SELECT COUNT(*) FROM pairs");
  EXPECT_THAT(rows.status(), IsOk());
  return rows.ok() ? *rows : -1;
}

bool Exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

// Writers commit rows two at a time while backups run: every backup holds a
// whole number of pairs (one committed snapshot) and opens as a database.
TEST(RegistryBackupTest, CopiesOneCommittedSnapshotWhileWritesGoOn) {
  auto registry = RegistryDatabase::Open({.path = FreshTestPath("backed-up.db")});
  ASSERT_THAT(registry.status(), IsOk());
  ASSERT_THAT(
      (*registry)->Write([](Database& db) { return db.Execute("CREATE TABLE pairs (x INTEGER)"); }),
      IsOk());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    while (!stop) {
      ASSERT_THAT((*registry)->Write([](Database& db) {
        return db.Execute("INSERT INTO pairs VALUES (1); INSERT INTO pairs VALUES (2);");
      }),
                  IsOk());
    }
  });
  const std::string directory = FreshTestPath("backups");
  const absl::Time start = absl::FromUnixSeconds(1800000000);
  for (int i = 0; i < 5; ++i) {
    auto backup =
        BackUpRegistry(**registry, {.directory = directory, .now = start + absl::Milliseconds(i)});
    ASSERT_THAT(backup.status(), IsOk());
    EXPECT_THAT(backup->path, EndsWith(absl::StrCat("/registry-20270115T080000.00", i, "Z.db")));
    EXPECT_GT(backup->bytes, 0);
    EXPECT_EQ(RowsIn(backup->path) % 2, 0) << backup->path;
    EXPECT_FALSE(Exists(backup->path + ".partial"));
  }
  stop = true;
  writer.join();
}

TEST(RegistryBackupTest, KeepsTheNewestAndRefusesWhatCannotBeBackedUp) {
  auto registry = RegistryDatabase::Open({.path = FreshTestPath("pruned.db")});
  ASSERT_THAT(registry.status(), IsOk());
  const std::string directory = FreshTestPath("pruned-backups");
  std::vector<std::string> paths;
  for (int i = 0; i < 4; ++i) {
    auto backup = BackUpRegistry(
        **registry,
        {.directory = directory, .now = absl::FromUnixSeconds(1800000000 + i), .keep = 2});
    ASSERT_THAT(backup.status(), IsOk());
    EXPECT_EQ(backup->pruned, i < 2 ? 0 : 1);
    paths.push_back(backup->path);
  }
  EXPECT_FALSE(Exists(paths[0]));
  EXPECT_FALSE(Exists(paths[1]));
  EXPECT_TRUE(Exists(paths[2]));
  EXPECT_TRUE(Exists(paths[3]));

  EXPECT_THAT(BackUpRegistry(**registry, {.directory = directory, .keep = -1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("keep")));
  auto in_memory = RegistryDatabase::Open({.path = ":memory:"});
  ASSERT_THAT(in_memory.status(), IsOk());
  EXPECT_THAT(BackUpRegistry(**in_memory, {.directory = directory}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("in memory")));
}

}  // namespace
}  // namespace stamina::storage
