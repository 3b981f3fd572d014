// The generated C++ API builds, links and talks over a real gRPC loopback:
// a server with the generated (all-UNIMPLEMENTED) services plus the standard
// health service, bound to port 0, answered by generated client stubs.
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "stamina/internal/v1/sampler_backend.grpc.pb.h"
#include "stamina/internal/v1/work_queue.grpc.pb.h"
#include "stamina/v1/concept_service.grpc.pb.h"
#include "stamina/v1/model_service.grpc.pb.h"
#include "stamina/v1/sampler_service.grpc.pb.h"
#include "stamina/v1/training_service.grpc.pb.h"

namespace stamina {
namespace {

using ::google::protobuf::DescriptorPool;
using ::google::protobuf::MethodDescriptor;
using ::google::protobuf::ServiceDescriptor;

const MethodDescriptor* FindMethod(const std::string& full_name) {
  return DescriptorPool::generated_pool()->FindMethodByName(full_name);
}

TEST(ApiDescriptorsTest, ServicesAreRegistered) {
  for (const char* service :
       {"stamina.v1.ModelService", "stamina.v1.ConceptService",
        "stamina.v1.TrainingService", "stamina.v1.SamplerService",
        "stamina.internal.v1.WorkQueue", "stamina.internal.v1.SamplerBackend",
        "stamina.internal.v1.BlobService"}) {
    const ServiceDescriptor* descriptor =
        DescriptorPool::generated_pool()->FindServiceByName(service);
    ASSERT_NE(descriptor, nullptr) << service;
    EXPECT_GT(descriptor->method_count(), 0) << service;
  }
}

TEST(ApiDescriptorsTest, StreamingShapes) {
  const MethodDescriptor* upload =
      FindMethod("stamina.v1.ConceptService.UploadImages");
  ASSERT_NE(upload, nullptr);
  EXPECT_TRUE(upload->client_streaming());
  EXPECT_FALSE(upload->server_streaming());

  for (const char* server_streaming :
       {"stamina.v1.TrainingService.WatchJob",
        "stamina.v1.SamplerService.Sample",
        "stamina.internal.v1.SamplerBackend.Sample",
        "stamina.internal.v1.WorkQueue.FetchBlob"}) {
    const MethodDescriptor* method = FindMethod(server_streaming);
    ASSERT_NE(method, nullptr) << server_streaming;
    EXPECT_TRUE(method->server_streaming()) << server_streaming;
    EXPECT_FALSE(method->client_streaming()) << server_streaming;
  }
  // Submitting work stays unary (AIP-151): progress comes from WatchJob.
  const MethodDescriptor* train =
      FindMethod("stamina.v1.TrainingService.TrainConcept");
  ASSERT_NE(train, nullptr);
  EXPECT_FALSE(train->client_streaming());
  EXPECT_FALSE(train->server_streaming());
}

class LoopbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&models_);
    builder.RegisterService(&training_);
    builder.RegisterService(&work_queue_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  stamina::v1::ModelService::Service models_;
  stamina::v1::TrainingService::Service training_;
  stamina::internal::v1::WorkQueue::Service work_queue_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(LoopbackTest, HealthIsServing) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = health->Check(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(LoopbackTest, GeneratedStubsReachGeneratedServices) {
  auto models = stamina::v1::ModelService::NewStub(channel_);
  grpc::ClientContext context;
  stamina::v1::CreateModelRequest request;
  request.mutable_model()->set_base_model("baseModels/stamina-tiny-v1");
  request.set_model_id("anna-and-friends");
  stamina::v1::Model response;
  grpc::Status status = models->CreateModel(&context, request, &response);
  // The generated base class answers UNIMPLEMENTED: the call crossed the
  // wire, was routed by its full method name and came back.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(LoopbackTest, ServerStreamingStubsWork) {
  auto training = stamina::v1::TrainingService::NewStub(channel_);
  grpc::ClientContext context;
  stamina::v1::WatchJobRequest request;
  request.set_name("models/m/jobs/j");
  auto reader = training->WatchJob(&context, request);
  stamina::v1::WatchJobResponse response;
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST(ApiMessagesTest, JobRoundTripsThroughTheWireFormat) {
  stamina::v1::Job job;
  job.set_name("models/m/jobs/j1");
  job.set_state(stamina::v1::JOB_STATE_RUNNING);
  job.mutable_progress()->set_phase(stamina::v1::JOB_PHASE_TRAINING);
  job.mutable_progress()->set_step(120);
  job.mutable_progress()->set_total_steps(400);
  job.mutable_settings()->set_method(stamina::v1::TRAINING_METHOD_STAMINA);
  job.mutable_settings()->mutable_stamina()->set_sparsity(
      stamina::v1::MASK_SPARSITY_HAT);
  job.mutable_settings()->add_target_modules("attn2.to_k");

  stamina::v1::Job parsed;
  ASSERT_TRUE(parsed.ParseFromString(job.SerializeAsString()));
  EXPECT_EQ(parsed.name(), "models/m/jobs/j1");
  EXPECT_EQ(parsed.progress().step(), 120);
  EXPECT_EQ(parsed.settings().stamina().sparsity(),
            stamina::v1::MASK_SPARSITY_HAT);
  EXPECT_THAT(parsed.settings().target_modules(),
              ::testing::ElementsAre("attn2.to_k"));
}

}  // namespace
}  // namespace stamina
