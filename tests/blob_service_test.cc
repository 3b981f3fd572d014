// Integration: staminad's internal BlobService over loopback, read raw and
// through a sampler replica's GrpcBlobStore: chunked streaming, the internal
// token, INVALID_ARGUMENT / NOT_FOUND naming the digest, and no BlobService
// at all without an internal token.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "sampler/grpc_blob_store.h"
#include "server/api_server.h"
#include "stamina/internal/v1/sampler_backend.grpc.pb.h"
#include "storage/sha256.h"
#include "tests/loopback.h"

namespace stamina {
namespace {

namespace iv1 = ::stamina::internal::v1;
using ::testing::HasSubstr;

class BlobServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = server::ApiServer::Create(
        {.data_dir = FreshTestDir("blob_service"),
         .work_queue = {.internal_token = "internal-secret", .chunk_bytes = 4}});
    ASSERT_THAT(created, IsOk());
    server_ = std::move(*created);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = iv1::BlobService::NewStub(channel_);
  }

  // The blob's bytes, or the call's status.
  absl::StatusOr<std::string> Read(const std::string& digest,
                                   const std::string& token = "internal-secret",
                                   int* messages = nullptr) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token);
    iv1::ReadBlobRequest request;
    request.set_digest(digest);
    auto reader = stub_->ReadBlob(&context, request);
    iv1::ReadBlobResponse chunk;
    std::string bytes;
    int count = 0;
    while (reader->Read(&chunk)) {
      if (count++ == 0) {
        EXPECT_GT(chunk.size_bytes(), 0);
      }
      bytes += chunk.chunk();
    }
    if (messages != nullptr) *messages = count;
    const grpc::Status status = reader->Finish();
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    return bytes;
  }

  std::unique_ptr<server::ApiServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<iv1::BlobService::Stub> stub_;
};

TEST_F(BlobServiceTest, StreamsABlobInChunks) {
  auto digest = server_->blobs().Put("adapter artifact bytes");
  ASSERT_THAT(digest, IsOk());
  int messages = 0;
  EXPECT_THAT(Read(*digest, "internal-secret", &messages),
              IsOkAndHolds("adapter artifact bytes"));
  EXPECT_EQ(messages, 6);  // 22 bytes in chunks of 4
}

TEST_F(BlobServiceTest, RefusesStrangersAndBadDigests) {
  auto digest = server_->blobs().Put("secret weights");
  ASSERT_THAT(digest, IsOk());
  EXPECT_THAT(Read(*digest, "guess"), StatusCodeIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(Read("ABC"), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("digest: \"ABC\" is not a SHA-256")));
  const std::string missing = storage::Sha256Hex("never stored");
  EXPECT_THAT(Read(missing), StatusIs(absl::StatusCode::kNotFound, HasSubstr(missing)));
}

TEST_F(BlobServiceTest, FeedsASamplerReplicasBlobStore) {
  auto digest = server_->blobs().Put("folded into the model");
  ASSERT_THAT(digest, IsOk());
  auto store =
      sampler::GrpcBlobStore::Create({.channel = channel_,
                                      .internal_token = "internal-secret",
                                      .cache_dir = FreshTestDir("replica_cache")});
  ASSERT_THAT(store, IsOk());
  EXPECT_THAT((*store)->Get(*digest), IsOkAndHolds("folded into the model"));
  EXPECT_EQ((*store)->fetches(), 1);
  EXPECT_THAT((*store)->Get(storage::Sha256Hex("nope")),
              StatusCodeIs(absl::StatusCode::kNotFound));
}

TEST(BlobServiceOffTest, NeedsAnInternalToken) {
  auto created =
      server::ApiServer::Create({.data_dir = FreshTestDir("blob_service_off")});
  ASSERT_THAT(created, IsOk());
  auto stub = iv1::BlobService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*created)->port()),
                          grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  iv1::ReadBlobRequest request;
  request.set_digest(storage::Sha256Hex("x"));
  auto reader = stub->ReadBlob(&context, request);
  iv1::ReadBlobResponse chunk;
  while (reader->Read(&chunk)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace stamina
