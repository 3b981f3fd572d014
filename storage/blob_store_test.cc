// The BlobStore contract, run against FileBlobStore and InMemoryBlobStore,
// plus what only the file store does (atomic files, corruption on disk) and
// garbage collection against a real registry.
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/fake_clock.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/blob_gc.h"
#include "storage/file_blob_store.h"
#include "storage/sha256.h"
#include "storage/testing/in_memory_blob_store.h"
#include "storage/testing/test_registry.h"

namespace stamina::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string FreshDir(const std::string& name) {
  const std::string path = FreshTestPath(name);
  std::string command = "rm -rf '" + path + "'";
  EXPECT_EQ(std::system(command.c_str()), 0);
  return path;
}

class BlobStoreContractTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      auto store = FileBlobStore::Create({.root = FreshDir("blobs")});
      ASSERT_THAT(store, IsOk());
      store_ = std::move(*store);
    } else {
      store_ = std::make_unique<InMemoryBlobStore>(&clock_);
    }
  }
  FakeClock clock_;
  std::unique_ptr<BlobStore> store_;
};

TEST_P(BlobStoreContractTest, PutGetRoundTripByContent) {
  const std::string bytes("\x89PNG\r\n\x1a\n\0binary", 15);
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string digest, store_->Put(bytes));
  EXPECT_EQ(digest, Sha256Hex(bytes));
  EXPECT_THAT(store_->Get(digest), IsOkAndHolds(bytes));
  EXPECT_THAT(store_->Has(digest), IsOkAndHolds(true));
  EXPECT_THAT(store_->Put(bytes), IsOkAndHolds(digest));  // idempotent
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string empty, store_->Put(""));
  EXPECT_THAT(store_->Get(empty), IsOkAndHolds(""));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<BlobInfo> all, store_->List());
  ASSERT_EQ(all.size(), 2u);
}

TEST_P(BlobStoreContractTest, MissingMalformedAndDeleted) {
  const std::string absent = Sha256Hex("absent");
  EXPECT_THAT(store_->Get(absent), StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->Has(absent), IsOkAndHolds(false));
  for (const char* bad : {"", "../../etc/passwd", "ABCDEF"}) {
    EXPECT_THAT(store_->Get(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("digest")));
    EXPECT_THAT(store_->Delete(bad),
                StatusCodeIs(absl::StatusCode::kInvalidArgument));
  }
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string digest, store_->Put("x"));
  STAMINA_ASSERT_OK(store_->Delete(digest));
  STAMINA_ASSERT_OK(store_->Delete(digest));  // twice is fine
  EXPECT_THAT(store_->Has(digest), IsOkAndHolds(false));
}

INSTANTIATE_TEST_SUITE_P(FileAndMemory, BlobStoreContractTest,
                         ::testing::Values(true, false),
                         [](const auto& info) {
                           return info.param ? "File" : "InMemory";
                         });

TEST(FileBlobStoreTest, CorruptFileIsDataLoss) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto store,
                               FileBlobStore::Create({.root = FreshDir("corrupt")}));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string digest, store->Put("precious bytes"));
  std::ofstream(store->PathOf(digest), std::ios::binary | std::ios::trunc)
      << "tampered bytes";
  EXPECT_THAT(store->Get(digest),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("corrupt")));
}

TEST(FileBlobStoreTest, LeavesNoTempFilesAndCleansOldOnes) {
  const std::string root = FreshDir("tmpclean");
  {
    STAMINA_ASSERT_OK_AND_ASSIGN(auto store, FileBlobStore::Create({.root = root}));
    STAMINA_ASSERT_OK(store->Put("a").status());
    std::ofstream(root + "/tmp/leftover.123") << "half a blob";
  }
  STAMINA_ASSERT_OK_AND_ASSIGN(auto store, FileBlobStore::Create({.root = root}));
  struct stat info;
  EXPECT_NE(stat((root + "/tmp/leftover.123").c_str(), &info), 0);
  EXPECT_EQ(store->List()->size(), 1u);
}

TEST(InMemoryBlobStoreTest, CorruptIsDataLoss) {
  InMemoryBlobStore store;
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string digest, store.Put("abc"));
  store.Corrupt(digest);
  EXPECT_THAT(store.Get(digest), StatusCodeIs(absl::StatusCode::kDataLoss));
}

TEST(BlobGcTest, DeletesOnlyOldUnreferencedBlobs) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto r, TestRegistry::Create());
  InMemoryBlobStore blobs(&r->clock());
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string image, blobs.Put("image bytes"));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string orphan, blobs.Put("orphan bytes"));
  STAMINA_ASSERT_OK(r->AddTrainableConcept("t1", "m", "anna", 0));
  STAMINA_ASSERT_OK(r->models().AddImage("t1", "m", "anna",
                                         {.digest = image, .size_bytes = 11}).status());
  r->clock().Advance(absl::Hours(2));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string fresh, blobs.Put("just uploaded"));

  STAMINA_ASSERT_OK_AND_ASSIGN(std::set<std::string> referenced,
                               ReferencedBlobs(r->db()));
  EXPECT_EQ(referenced.count(image), 1u);
  EXPECT_EQ(referenced.count(Sha256Hex("tiny weights")), 1u);  // base weights
  STAMINA_ASSERT_OK_AND_ASSIGN(
      GcReport report, CollectGarbage(blobs, referenced, r->clock(), absl::Hours(1)));
  EXPECT_THAT(report.deleted, ElementsAre(orphan));
  EXPECT_EQ(report.freed_bytes, 12);
  EXPECT_EQ(report.kept, 2);
  EXPECT_THAT(blobs.Has(fresh), IsOkAndHolds(true));
  EXPECT_THAT(blobs.Has(image), IsOkAndHolds(true));
}

TEST(BlobCollectorTest, DeletesFreedBlobsOnlyWhileNoRowReferencesThem) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto r, TestRegistry::Create());
  InMemoryBlobStore blobs(&r->clock());
  BlobCollector collector({.db = &r->db(), .blobs = &blobs, .clock = &r->clock()});
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string kept, blobs.Put("referenced"));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string freed, blobs.Put("freed"));
  STAMINA_ASSERT_OK(r->AddTrainableConcept("t1", "m", "anna", 0));
  STAMINA_ASSERT_OK(r->models().AddImage("t1", "m", "anna",
                                         {.digest = kept, .size_bytes = 10}).status());

  EXPECT_THAT(collector.DeleteIfUnreferenced({kept, freed}), ElementsAre(freed));
  EXPECT_THAT(blobs.Has(kept), IsOkAndHolds(true));
  EXPECT_THAT(blobs.Has(freed), IsOkAndHolds(false));
}

// An upload of the same bytes pins the digest across storing them and
// committing its row: a deletion running meanwhile waits for the pin, then
// sees the new row and keeps the file.
TEST(BlobCollectorTest, AConcurrentUploadOfTheSameBytesKeepsTheFile) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto r, TestRegistry::Create());
  InMemoryBlobStore blobs(&r->clock());
  BlobCollector collector({.db = &r->db(), .blobs = &blobs, .clock = &r->clock()});
  STAMINA_ASSERT_OK(r->AddTrainableConcept("t1", "m", "anna", 0));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string digest, blobs.Put("shared photo"));
  std::vector<std::string> deleted = {"not run"};
  std::thread deleter;
  {
    BlobCollector::Pin pin = collector.PinDigest(digest);
    deleter = std::thread([&] { deleted = collector.DeleteIfUnreferenced({digest}); });
    STAMINA_ASSERT_OK(blobs.Put("shared photo").status());
    STAMINA_ASSERT_OK(r->models().AddImage("t1", "m", "anna",
                                           {.digest = digest, .size_bytes = 12}).status());
  }  // the deleter decides only now
  deleter.join();
  EXPECT_TRUE(deleted.empty());
  EXPECT_THAT(blobs.Has(digest), IsOkAndHolds(true));
}

TEST(BlobCollectorTest, SweepDeletesOldOrphansOnly) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto r, TestRegistry::Create());
  InMemoryBlobStore blobs(&r->clock());
  BlobCollector collector(
      {.db = &r->db(), .blobs = &blobs, .clock = &r->clock(), .min_age = absl::Hours(1)});
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string orphan, blobs.Put("orphan bytes"));
  r->clock().Advance(absl::Hours(2));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string fresh, blobs.Put("just uploaded"));
  STAMINA_ASSERT_OK_AND_ASSIGN(GcReport report, collector.Collect());
  EXPECT_THAT(report.deleted, ElementsAre(orphan));
  EXPECT_THAT(blobs.Has(fresh), IsOkAndHolds(true));
}

}  // namespace
}  // namespace stamina::storage
