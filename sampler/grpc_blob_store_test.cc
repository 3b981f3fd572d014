// GrpcBlobStore against a fake BlobService over loopback: fetch and cache,
// the digest check (DATA_LOSS, nothing cached), errors passed through.
#include "sampler/grpc_blob_store.h"

#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "storage/sha256.h"

namespace stamina::sampler {
namespace {

namespace iv1 = ::stamina::internal::v1;
using ::testing::HasSubstr;

// Serves `blobs` (digest → bytes, which a test may make wrong) in 3-byte
// chunks to callers with the token; counts reads.
class FakeBlobService final : public iv1::BlobService::Service {
 public:
  grpc::Status ReadBlob(grpc::ServerContext* call, const iv1::ReadBlobRequest* request,
                        grpc::ServerWriter<iv1::ReadBlobResponse>* writer) override {
    const auto auth = call->client_metadata().find("authorization");
    if (auth == call->client_metadata().end() || auth->second != "Bearer tok") {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "token");
    }
    absl::MutexLock lock(&mu_);
    ++reads_;
    const auto it = blobs_.find(request->digest());
    if (it == blobs_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "digest");
    for (size_t offset = 0; offset < it->second.size(); offset += 3) {
      iv1::ReadBlobResponse chunk;
      if (offset == 0) chunk.set_size_bytes(static_cast<int64_t>(it->second.size()));
      chunk.set_chunk(it->second.substr(offset, 3));
      writer->Write(chunk);
    }
    return grpc::Status::OK;
  }

  void Serve(const std::string& digest, const std::string& bytes) {
    absl::MutexLock lock(&mu_);
    blobs_[digest] = bytes;
  }
  int reads() {
    absl::MutexLock lock(&mu_);
    return reads_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::string> blobs_ ABSL_GUARDED_BY(mu_);
  int reads_ ABSL_GUARDED_BY(mu_) = 0;
};

class GrpcBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials());
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/grpc_blob_store_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto store = GrpcBlobStore::Create(
        {.channel = channel_, .internal_token = "tok", .cache_dir = dir_});
    ASSERT_THAT(store, IsOk());
    store_ = std::move(*store);
  }
  void TearDown() override { server_->Shutdown(); }

  FakeBlobService service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string dir_;
  std::unique_ptr<GrpcBlobStore> store_;
};

TEST_F(GrpcBlobStoreTest, FetchesOnceThenReadsTheLocalCache) {
  const std::string bytes = "an adapter artifact";
  const std::string digest = storage::Sha256Hex(bytes);
  service_.Serve(digest, bytes);
  EXPECT_THAT(store_->Get(digest), IsOkAndHolds(bytes));
  EXPECT_THAT(store_->Get(digest), IsOkAndHolds(bytes));
  EXPECT_THAT(store_->Has(digest), IsOkAndHolds(true));
  EXPECT_EQ(service_.reads(), 1);
  EXPECT_EQ(store_->fetches(), 1);
  auto listed = store_->List();
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].digest, digest);

  // The cache survives the store (a restarted replica).
  server_->Shutdown();
  auto again = GrpcBlobStore::Create(
      {.channel = channel_, .internal_token = "tok", .cache_dir = dir_});
  ASSERT_THAT(again, IsOk());
  EXPECT_THAT((*again)->Get(digest), IsOkAndHolds(bytes));
}

TEST_F(GrpcBlobStoreTest, BytesThatDoNotHashToTheDigestAreDataLoss) {
  const std::string digest = storage::Sha256Hex("the real bytes");
  service_.Serve(digest, "other bytes");
  EXPECT_THAT(store_->Get(digest),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(digest)));
  // Nothing was cached: the next read asks again.
  EXPECT_THAT(store_->List(), IsOkAndHolds(::testing::IsEmpty()));
  service_.Serve(digest, "the real bytes");
  EXPECT_THAT(store_->Get(digest), IsOkAndHolds("the real bytes"));
  EXPECT_EQ(service_.reads(), 2);
}

TEST_F(GrpcBlobStoreTest, PassesTheFrontEndsErrorsThrough) {
  const std::string missing = storage::Sha256Hex("missing");
  EXPECT_THAT(store_->Get(missing), StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->Has(missing), IsOkAndHolds(false));
  EXPECT_THAT(store_->Get("not-a-digest"), StatusCodeIs(absl::StatusCode::kInvalidArgument));
  auto stranger = GrpcBlobStore::Create(
      {.channel = channel_, .internal_token = "wrong", .cache_dir = dir_ + "-stranger"});
  ASSERT_THAT(stranger, IsOk());
  EXPECT_THAT((*stranger)->Get(missing), StatusCodeIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(GrpcBlobStoreTest, IsReadOnlyAndChecksItsOptions) {
  EXPECT_THAT(store_->Put("bytes"), StatusCodeIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(GrpcBlobStore::Create({.internal_token = "tok", .cache_dir = dir_}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("channel")));
  EXPECT_THAT(GrpcBlobStore::Create({.channel = channel_, .cache_dir = dir_}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("internal_token")));
  EXPECT_THAT(GrpcBlobStore::Create({.channel = channel_, .internal_token = "tok"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cache_dir")));
}

}  // namespace
}  // namespace stamina::sampler
