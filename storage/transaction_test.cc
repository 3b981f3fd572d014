#include "storage/transaction.h"

#include <cstdlib>
#include <string>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::storage {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::remove((path + suffix).c_str());
  }
  return path;
}

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = TempPath("txn.db");
    auto db = Database::Open({.path = path_});
    ASSERT_THAT(db, IsOk());
    db_ = std::move(*db);
    ASSERT_THAT(db_->Execute("CREATE TABLE t (x INTEGER)"), IsOk());
  }
  int64_t Count() { return *db_->QueryInt64("SELECT count(*) FROM t"); }

  std::string path_;
  std::unique_ptr<Database> db_;
};

TEST_F(TransactionTest, CommitPersists) {
  STAMINA_ASSERT_OK_AND_ASSIGN(Transaction txn, Transaction::Begin(*db_));
  EXPECT_TRUE(db_->in_transaction());
  STAMINA_ASSERT_OK(db_->Execute("INSERT INTO t VALUES (1)"));
  STAMINA_ASSERT_OK(txn.Commit());
  EXPECT_FALSE(txn.active());
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_EQ(Count(), 1);
}

TEST_F(TransactionTest, DestructorRollsBack) {
  {
    STAMINA_ASSERT_OK_AND_ASSIGN(Transaction txn, Transaction::Begin(*db_));
    STAMINA_ASSERT_OK(db_->Execute("INSERT INTO t VALUES (1)"));
    EXPECT_EQ(Count(), 1);  // visible inside
  }
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_EQ(Count(), 0);
}

TEST_F(TransactionTest, ExplicitRollbackAndDoubleFinish) {
  STAMINA_ASSERT_OK_AND_ASSIGN(Transaction txn, Transaction::Begin(*db_));
  STAMINA_ASSERT_OK(db_->Execute("INSERT INTO t VALUES (1)"));
  STAMINA_ASSERT_OK(txn.Rollback());
  EXPECT_EQ(Count(), 0);
  EXPECT_THAT(txn.Commit(), StatusCodeIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(txn.Rollback(),
              StatusCodeIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(TransactionTest, DoesNotNest) {
  STAMINA_ASSERT_OK_AND_ASSIGN(Transaction txn, Transaction::Begin(*db_));
  EXPECT_THAT(Transaction::Begin(*db_),
              StatusCodeIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(TransactionTest, MovedFromTransactionDoesNothing) {
  STAMINA_ASSERT_OK_AND_ASSIGN(Transaction first, Transaction::Begin(*db_));
  Transaction second(std::move(first));
  EXPECT_FALSE(first.active());  // NOLINT(bugprone-use-after-move): the contract
  STAMINA_ASSERT_OK(db_->Execute("INSERT INTO t VALUES (1)"));
  STAMINA_ASSERT_OK(second.Commit());
  EXPECT_EQ(Count(), 1);
}

TEST_F(TransactionTest, SecondWriterIsUnavailableAfterBusyTimeout) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      auto other,
      Database::Open({.path = path_, .busy_timeout = absl::Milliseconds(50)}));
  STAMINA_ASSERT_OK_AND_ASSIGN(Transaction writer, Transaction::Begin(*db_));
  EXPECT_THAT(Transaction::Begin(*other),
              StatusCodeIs(absl::StatusCode::kUnavailable));
  // Readers are not blocked by the writer in WAL mode.
  EXPECT_THAT(other->QueryInt64("SELECT count(*) FROM t"), IsOkAndHolds(0));
  STAMINA_ASSERT_OK(writer.Commit());
  STAMINA_ASSERT_OK_AND_ASSIGN(Transaction next, Transaction::Begin(*other));
  STAMINA_ASSERT_OK(next.Commit());
}

}  // namespace
}  // namespace stamina::storage
