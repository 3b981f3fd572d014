#include "storage/registry_database.h"

#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/testing/test_registry.h"

namespace stamina::storage {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<RegistryDatabase> OpenWithTable(const std::string& name, int readers) {
  auto db = RegistryDatabase::Open({.path = FreshTestPath(name), .read_connections = readers});
  EXPECT_THAT(db.status(), IsOk());
  if (!db.ok()) return nullptr;
  EXPECT_THAT((*db)->Write([](Database& d) { return d.Execute("CREATE TABLE t (x INTEGER)"); }),
              IsOk());
  return *std::move(db);
}

int64_t CountRows(RegistryDatabase& db) {
  int64_t count = -1;
  EXPECT_THAT(db.Read([&](Database& d) -> absl::Status {
    auto n = d.QueryInt64("SELECT COUNT(*) FROM t");
    if (!n.ok()) return n.status();
    count = *n;
    return absl::OkStatus();
  }),
              IsOk());
  return count;
}

// A read does not wait for an open write (here, one on the same thread, which
// a single shared connection would deadlock on) and sees the last commit,
// not the write in progress; after the commit it sees the new row.
TEST(RegistryDatabaseTest, ReadsSeeTheLastCommitWhileAWriteIsOpen) {
  auto db = OpenWithTable("reads_during_write", 2);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->read_connections(), 2);
  int64_t seen_during_write = -1;
  ASSERT_THAT(db->Write([&](Database& d) -> absl::Status {
    absl::Status inserted = d.Execute("INSERT INTO t VALUES (1)");
    seen_during_write = CountRows(*db);
    return inserted;
  }),
              IsOk());
  EXPECT_EQ(seen_during_write, 0);
  EXPECT_EQ(CountRows(*db), 1);
}

TEST(RegistryDatabaseTest, ReadConnectionsRefuseWrites) {
  auto db = OpenWithTable("query_only", 1);
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(db->Read([](Database& d) { return d.Execute("INSERT INTO t VALUES (1)"); }),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("readonly")));
  // The connection went back to the pool clean: the next read works.
  EXPECT_EQ(CountRows(*db), 0);
}

// Two reads are inside their transactions at the same time: each waits, in
// its callback, for the other to arrive.
TEST(RegistryDatabaseTest, ReadsRunInParallel) {
  auto db = OpenWithTable("parallel_reads", 2);
  ASSERT_NE(db, nullptr);
  absl::Notification first_in, second_in;
  bool first_met_second = false;
  std::thread first([&] {
    EXPECT_THAT(db->Read([&](Database&) {
      first_in.Notify();
      first_met_second = second_in.WaitForNotificationWithTimeout(absl::Seconds(60));
      return absl::OkStatus();
    }),
                IsOk());
  });
  first_in.WaitForNotification();
  EXPECT_THAT(db->Read([&](Database&) {
    second_in.Notify();
    return absl::OkStatus();
  }),
              IsOk());
  first.join();
  EXPECT_TRUE(first_met_second);
}

TEST(RegistryDatabaseTest, InMemoryRegistryReadsOnItsWriter) {
  auto db = RegistryDatabase::Open({.path = ":memory:", .read_connections = 4});
  ASSERT_THAT(db.status(), IsOk());
  EXPECT_EQ((*db)->read_connections(), 0);
  ASSERT_THAT((*db)->Write([](Database& d) {
    return d.Execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)");
  }),
              IsOk());
  EXPECT_EQ(CountRows(**db), 1);
  EXPECT_THAT(RegistryDatabase::Open({.path = FreshTestPath("negative"), .read_connections = -1})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("read_connections")));
}

}  // namespace
}  // namespace stamina::storage
