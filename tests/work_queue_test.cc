// Integration: a remote worker's view of the internal WorkQueue over
// loopback: lease → task manifest → fetch inputs → heartbeat → upload the
// artifact → complete; a lost lease is ABORTED; cancellation is relayed.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/testing/fake_clock.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/api_server.h"
#include "stamina/internal/v1/work_queue.grpc.pb.h"
#include "stamina/v1/sampler_service.grpc.pb.h"
#include "stamina/v1/training_service.grpc.pb.h"
#include "storage/sha256.h"
#include "tests/loopback.h"

namespace stamina {
namespace {

using ::testing::HasSubstr;
namespace iv1 = ::stamina::internal::v1;

class WorkQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = FreshTestDir("wq");
    server::ServiceLimits limits;
    limits.min_images_per_concept = 1;
    auto created = server::ApiServer::Create(
        {.data_dir = dir,
         .limits = limits,
         .base_models = {{.id = "tiny", .digest = storage::Sha256Hex("weights")}},
         .clock = &clock_,
         .internal_listen_address = "127.0.0.1:0",
         .internal_tokens = TestInternalTokens(),
         .work_queue = {.lease_ttl = absl::Seconds(30), .chunk_bytes = 4}});
    ASSERT_THAT(created, IsOk());
    server_ = std::move(*created);
    public_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                  grpc::InsecureChannelCredentials());
    queue_ = iv1::WorkQueue::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->internal_port()), grpc::InsecureChannelCredentials()));
    training_ = v1::TrainingService::NewStub(public_);
    ASSERT_THAT(server_->tenants().CreateTenant("acme", ""), IsOk());
    auto key = server_->tenants().CreateApiKey("acme");
    ASSERT_THAT(key, IsOk());
    key_ = key->secret;
    ASSERT_THAT(server_->models().CreateModel(
                    {.tenant_id = "acme", .id = "m", .base_model_id = "tiny"}),
                IsOk());
  }

  std::unique_ptr<grpc::ClientContext> Worker() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", std::string("Bearer ") + kTestWorkerToken);
    return context;
  }

  // A concept with one image whose bytes are `image`, and a queued job.
  std::string Queue(const std::string& concept, const std::string& image) {
    EXPECT_THAT(server_->models().CreateConcept({.tenant_id = "acme", .model_id = "m",
                                                 .id = concept,
                                                 .token = "<" + concept + ">",
                                                 .caption_templates = {"a photo of {}"}}),
                IsOk());
    auto digest = server_->blobs().Put(image);
    EXPECT_THAT(digest, IsOk());
    EXPECT_THAT(server_->models().AddImage("acme", "m", concept,
                                           {.digest = *digest, .size_bytes = 5,
                                            .caption = "{} smiling"}),
                IsOk());
    v1::TrainConceptRequest request;
    request.set_parent("models/m");
    request.set_concept("models/m/concepts/" + concept);
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + key_);
    v1::Job job;
    grpc::Status status = training_->TrainConcept(&context, request, &job);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return job.name();
  }

  iv1::Lease Lease() {
    iv1::LeaseJobRequest request;
    request.set_worker("pod-1");
    iv1::LeaseJobResponse response;
    grpc::Status status = queue_->LeaseJob(Worker().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.lease();
  }

  absl::StatusOr<std::string> Fetch(const std::string& lease, const std::string& digest) {
    iv1::FetchBlobRequest request;
    request.set_lease_id(lease);
    request.set_digest(digest);
    auto context = Worker();
    auto reader = queue_->FetchBlob(context.get(), request);
    std::string bytes;
    iv1::FetchBlobResponse chunk;
    while (reader->Read(&chunk)) bytes += chunk.chunk();
    grpc::Status status = reader->Finish();
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    return bytes;
  }

  grpc::Status Upload(const std::string& lease, const std::string& bytes,
                      std::string* digest) {
    auto context = Worker();
    iv1::UploadArtifactResponse response;
    auto writer = queue_->UploadArtifact(context.get(), &response);
    iv1::UploadArtifactRequest header;
    header.mutable_header()->set_lease_id(lease);
    header.mutable_header()->set_size_bytes(static_cast<int64_t>(bytes.size()));
    header.mutable_header()->set_sha256(storage::Sha256Hex(bytes));
    writer->Write(header);
    for (size_t i = 0; i < bytes.size(); i += 3) {
      iv1::UploadArtifactRequest chunk;
      chunk.set_chunk(bytes.substr(i, 3));
      writer->Write(chunk);
    }
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    *digest = response.digest();
    return status;
  }

  FakeClock clock_;
  std::unique_ptr<server::ApiServer> server_;
  std::shared_ptr<grpc::Channel> public_;
  std::unique_ptr<iv1::WorkQueue::Stub> queue_;
  std::unique_ptr<v1::TrainingService::Stub> training_;
  std::string key_;
};

TEST_F(WorkQueueTest, NeedsAWorkerToken) {
  iv1::LeaseJobRequest request;
  request.set_worker("pod");
  request.set_wait_ms(0);
  iv1::LeaseJobResponse response;
  grpc::ClientContext wrong;
  wrong.AddMetadata("authorization", "Bearer wrong");
  EXPECT_EQ(queue_->LeaseJob(&wrong, request, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext replica;  // a sampler replica's token leases nothing
  replica.AddMetadata("authorization", std::string("Bearer ") + kTestSamplerToken);
  EXPECT_EQ(queue_->LeaseJob(&replica, request, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// The internal services are not served on the public port: not even the
// right token reaches them there.
TEST_F(WorkQueueTest, NotOnThePublicPort) {
  auto on_public = iv1::WorkQueue::NewStub(public_);
  iv1::LeaseJobRequest request;
  request.set_worker("pod");
  iv1::LeaseJobResponse response;
  EXPECT_EQ(on_public->LeaseJob(Worker().get(), request, &response).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  // And the public API is not on the internal port.
  auto training_on_internal = v1::TrainingService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", server_->internal_port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext user;
  user.AddMetadata("authorization", "Bearer " + key_);
  v1::ListJobsResponse jobs;
  EXPECT_EQ(training_on_internal->ListJobs(&user, v1::ListJobsRequest(), &jobs).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

// Issue 19: the device a worker leases with is what GetCapabilities (and
// the metrics) report, per device and counted per worker, until the worker
// has been silent for five minutes.
TEST_F(WorkQueueTest, WorkersDevicesAppearInCapabilitiesUntilTheyGoSilent) {
  auto lease_from = [&](const std::string& worker, const std::string& device) {
    iv1::LeaseJobRequest request;
    request.set_worker(worker);
    request.mutable_device()->set_role("training");
    request.mutable_device()->set_device(device);
    request.mutable_device()->set_description("NVIDIA H200");
    request.mutable_device()->set_memory_bytes(int64_t{141} << 30);
    request.mutable_device()->set_compute_dtype("bf16");
    iv1::LeaseJobResponse response;
    grpc::Status status = queue_->LeaseJob(Worker().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  };
  auto capabilities = [&] {
    auto sampler = v1::SamplerService::NewStub(public_);
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + key_);
    v1::Capabilities response;
    grpc::Status status = sampler->GetCapabilities(&context, {}, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  };
  lease_from("gpu-pod-1", "cuda:0");
  lease_from("gpu-pod-2", "cuda:0");
  v1::Capabilities seen = capabilities();
  ASSERT_EQ(seen.devices_size(), 1);
  EXPECT_EQ(seen.devices(0).role(), "training");
  EXPECT_EQ(seen.devices(0).device(), "cuda:0");
  EXPECT_EQ(seen.devices(0).compute_dtype(), "bf16");
  EXPECT_EQ(seen.devices(0).memory_bytes(), int64_t{141} << 30);
  EXPECT_EQ(seen.devices(0).processes(), 2);

  clock_.Advance(absl::Minutes(4));
  lease_from("gpu-pod-2", "cuda:0");
  clock_.Advance(absl::Minutes(2));  // pod 1 silent for 6 minutes
  seen = capabilities();
  ASSERT_EQ(seen.devices_size(), 1);
  EXPECT_EQ(seen.devices(0).processes(), 1);
}

TEST_F(WorkQueueTest, NoJobNoLease) {
  EXPECT_FALSE(Lease().has_task());
}

TEST_F(WorkQueueTest, LeaseFetchUploadCompleteThenTheNextTaskHasTheAdapter) {
  const std::string job = Queue("anna", "anna-photo");
  iv1::Lease lease = Lease();
  ASSERT_TRUE(lease.has_task());
  const iv1::TrainingTask& task = lease.task();
  EXPECT_EQ(task.job(), job);
  EXPECT_EQ(task.attempt(), 1);
  EXPECT_EQ(task.base_model(), "baseModels/tiny");
  EXPECT_EQ(task.base_model_digest(), storage::Sha256Hex("weights"));
  EXPECT_EQ(task.parent_version(), "");
  EXPECT_EQ(task.token(), "<anna>");
  ASSERT_EQ(task.images_size(), 1);
  EXPECT_EQ(task.images(0).caption(), "{} smiling");
  EXPECT_EQ(task.caption_templates(0), "a photo of {}");
  EXPECT_EQ(task.settings().method(), v1::TRAINING_METHOD_STAMINA);
  EXPECT_NE(task.settings().seed(), 0);
  EXPECT_EQ(lease.heartbeat_interval().seconds(), 10);

  EXPECT_THAT(Fetch(lease.lease_id(), task.images(0).digest()),
              IsOkAndHolds(std::string("anna-photo")));  // 3 chunks of 4 bytes
  EXPECT_THAT(Fetch(lease.lease_id(), storage::Sha256Hex("someone else's")),
              StatusCodeIs(absl::StatusCode::kNotFound));

  iv1::HeartbeatRequest beat;
  beat.set_lease_id(lease.lease_id());
  beat.mutable_progress()->set_phase(v1::JOB_PHASE_TRAINING);
  beat.mutable_progress()->set_step(3);
  iv1::HeartbeatResponse beat_response;
  ASSERT_TRUE(queue_->Heartbeat(Worker().get(), beat, &beat_response).ok());
  EXPECT_FALSE(beat_response.cancel_requested());

  iv1::CompleteJobRequest complete;
  complete.set_lease_id(lease.lease_id());
  complete.set_adapter_digest(storage::Sha256Hex("not uploaded"));
  iv1::CompleteJobResponse completed;
  EXPECT_EQ(queue_->CompleteJob(Worker().get(), complete, &completed).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  std::string digest;
  ASSERT_TRUE(Upload(lease.lease_id(), "safetensors bytes", &digest).ok());
  EXPECT_EQ(digest, storage::Sha256Hex("safetensors bytes"));
  complete.set_adapter_digest(digest);
  complete.mutable_metrics()->set_final_loss(0.5);
  ASSERT_TRUE(queue_->CompleteJob(Worker().get(), complete, &completed).ok());
  EXPECT_EQ(completed.version(), "models/m/versions/1");
  // A retried completion cannot commit twice.
  EXPECT_EQ(queue_->CompleteJob(Worker().get(), complete, &completed).error_code(),
            grpc::StatusCode::ABORTED);

  Queue("mill", "mill-photo");
  iv1::Lease next = Lease();
  EXPECT_EQ(next.task().parent_version(), "models/m/versions/1");
  ASSERT_EQ(next.task().parent_adapters_size(), 1);
  EXPECT_EQ(next.task().parent_adapters(0).adapter_digest(), digest);
  EXPECT_EQ(next.task().parent_adapters(0).token(), "<anna>");
  EXPECT_THAT(Fetch(next.lease_id(), digest),
              IsOkAndHolds(std::string("safetensors bytes")));
}

TEST_F(WorkQueueTest, UploadChecksSizeAndDigest) {
  Queue("anna", "x");
  iv1::Lease lease = Lease();
  auto context = Worker();
  iv1::UploadArtifactResponse response;
  auto writer = queue_->UploadArtifact(context.get(), &response);
  iv1::UploadArtifactRequest header;
  header.mutable_header()->set_lease_id(lease.lease_id());
  header.mutable_header()->set_size_bytes(3);
  header.mutable_header()->set_sha256(storage::Sha256Hex("abc"));
  writer->Write(header);
  iv1::UploadArtifactRequest chunk;
  chunk.set_chunk("abd");
  writer->Write(chunk);
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("sha256"));
}

TEST_F(WorkQueueTest, LostLeaseIsAbortedAndCancelIsRelayed) {
  const std::string job = Queue("anna", "x");
  iv1::Lease first = Lease();
  clock_.Advance(absl::Seconds(31));  // the worker went silent
  iv1::HeartbeatRequest beat;
  beat.set_lease_id(first.lease_id());
  iv1::HeartbeatResponse response;
  EXPECT_EQ(queue_->Heartbeat(Worker().get(), beat, &response).error_code(),
            grpc::StatusCode::ABORTED);
  iv1::Lease second = Lease();
  EXPECT_EQ(second.task().job(), job);
  EXPECT_EQ(second.task().attempt(), 2);
  EXPECT_THAT(Fetch(first.lease_id(), second.task().images(0).digest()),
              StatusCodeIs(absl::StatusCode::kAborted));

  grpc::ClientContext user;
  user.AddMetadata("authorization", "Bearer " + key_);
  v1::CancelJobRequest cancel;
  cancel.set_name(job);
  v1::Job cancelling;
  ASSERT_TRUE(training_->CancelJob(&user, cancel, &cancelling).ok());
  beat.set_lease_id(second.lease_id());
  ASSERT_TRUE(queue_->Heartbeat(Worker().get(), beat, &response).ok());
  EXPECT_TRUE(response.cancel_requested());
  iv1::FailJobRequest fail;
  fail.set_lease_id(second.lease_id());
  fail.set_cancelled(true);
  iv1::FailJobResponse failed;
  ASSERT_TRUE(queue_->FailJob(Worker().get(), fail, &failed).ok());
  EXPECT_EQ(failed.state(), v1::JOB_STATE_CANCELLED);
}

}  // namespace
}  // namespace stamina
