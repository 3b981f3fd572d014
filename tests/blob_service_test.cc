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
    auto created = server::ApiServer::Create({.data_dir = FreshTestDir("blob_service"),
                                              .internal_listen_address = "127.0.0.1:0",
                                              .internal_tokens = TestInternalTokens(),
                                              .work_queue = {.chunk_bytes = 4}});
    ASSERT_THAT(created, IsOk());
    server_ = std::move(*created);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->internal_port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = iv1::BlobService::NewStub(channel_);
  }

  // The blob's bytes, or the call's status.
  absl::StatusOr<std::string> Read(const std::string& digest,
                                   const std::string& token = kTestSamplerToken,
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

  // What the front end does before it sends the replica a model.
  void GrantToReplica(const std::string& digest) {
    server_->context().blob_grants->Grant("replica", {digest});
  }

  std::unique_ptr<server::ApiServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<iv1::BlobService::Stub> stub_;
};

TEST_F(BlobServiceTest, StreamsABlobInChunks) {
  auto digest = server_->blobs().Put("adapter artifact bytes");
  ASSERT_THAT(digest, IsOk());
  GrantToReplica(*digest);
  int messages = 0;
  EXPECT_THAT(Read(*digest, kTestSamplerToken, &messages), IsOkAndHolds("adapter artifact bytes"));
  EXPECT_EQ(messages, 6);  // 22 bytes in chunks of 4
}

TEST_F(BlobServiceTest, RefusesStrangersAndBadDigests) {
  auto digest = server_->blobs().Put("secret weights");
  ASSERT_THAT(digest, IsOk());
  GrantToReplica(*digest);
  EXPECT_THAT(Read(*digest, "guess"), StatusCodeIs(absl::StatusCode::kUnauthenticated));
  // A worker pool's token is not a replica's.
  EXPECT_THAT(Read(*digest, kTestWorkerToken), StatusCodeIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Read("ABC"), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("digest: \"ABC\" is not a SHA-256")));
  const std::string missing = storage::Sha256Hex("never stored");
  GrantToReplica(missing);
  EXPECT_THAT(Read(missing), StatusIs(absl::StatusCode::kNotFound, HasSubstr(missing)));
}

// A replica reads only what it was sent: an uploaded photo (or any blob it
// was not sent) is PERMISSION_DENIED, and says nothing of whether it exists.
TEST_F(BlobServiceTest, AReplicaReadsOnlyTheAdaptersItWasSent) {
  auto photo = server_->blobs().Put("a tenant's photo");
  ASSERT_THAT(photo, IsOk());
  EXPECT_THAT(Read(*photo), StatusCodeIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Read(storage::Sha256Hex("never stored")),
              StatusCodeIs(absl::StatusCode::kPermissionDenied));
  server_->context().blob_grants->Grant("another-replica", {*photo});
  EXPECT_THAT(Read(*photo), StatusCodeIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(BlobServiceTest, FeedsASamplerReplicasBlobStore) {
  auto digest = server_->blobs().Put("folded into the model");
  ASSERT_THAT(digest, IsOk());
  GrantToReplica(*digest);
  GrantToReplica(storage::Sha256Hex("nope"));
  auto store = sampler::GrpcBlobStore::Create({.channel = channel_,
                                               .internal_token = kTestSamplerToken,
                                               .cache_dir = FreshTestDir("replica_cache")});
  ASSERT_THAT(store, IsOk());
  EXPECT_THAT((*store)->Get(*digest), IsOkAndHolds("folded into the model"));
  EXPECT_EQ((*store)->fetches(), 1);
  EXPECT_THAT((*store)->Get(storage::Sha256Hex("nope")), StatusCodeIs(absl::StatusCode::kNotFound));
}

// The internal services are never on the public port, with or without an
// internal listener.
TEST(BlobServiceOffTest, NotOnThePublicPort) {
  for (bool internal_listener : {false, true}) {
    auto created = server::ApiServer::Create(
        {.data_dir = FreshTestDir("blob_service_off"),
         .internal_listen_address = internal_listener ? "127.0.0.1:0" : "",
         .internal_tokens = TestInternalTokens()});
    ASSERT_THAT(created, IsOk());
    EXPECT_EQ((*created)->internal_port() != 0, internal_listener);
    auto stub = iv1::BlobService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", (*created)->port()), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    iv1::ReadBlobRequest request;
    request.set_digest(storage::Sha256Hex("x"));
    context.AddMetadata("authorization", std::string("Bearer ") + kTestSamplerToken);
    auto reader = stub->ReadBlob(&context, request);
    iv1::ReadBlobResponse chunk;
    while (reader->Read(&chunk)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }
}

}  // namespace
}  // namespace stamina
