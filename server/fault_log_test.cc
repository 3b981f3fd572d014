#include "server/fault_log.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "stamina/v1/model_service.grpc.pb.h"

namespace stamina::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// GetModel answers with the status named by the request's model id.
class ScriptedModelService final : public v1::ModelService::Service {
 public:
  grpc::Status GetModel(grpc::ServerContext*, const v1::GetModelRequest* request,
                        v1::Model*) override {
    const std::string& name = request->name();
    if (name == "internal") return {grpc::StatusCode::INTERNAL, "broken invariant"};
    if (name == "oom") return {grpc::StatusCode::RESOURCE_EXHAUSTED, "out of memory: 1 TiB"};
    if (name == "busy") return {grpc::StatusCode::RESOURCE_EXHAUSTED, "sampler busy"};
    if (name == "missing") return {grpc::StatusCode::NOT_FOUND, "models/missing not found"};
    return grpc::Status::OK;
  }
};

TEST(FaultLogTest, LogsServerFaultsOnly) {
  absl::Mutex mu;
  std::vector<std::string> lines;
  ScriptedModelService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(NewFaultLogInterceptorFactory([&](const std::string& line) {
    absl::MutexLock lock(&mu);
    lines.push_back(line);
  }));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = v1::ModelService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  for (const char* name : {"ok", "missing", "busy", "internal", "oom"}) {
    grpc::ClientContext context;
    v1::GetModelRequest request;
    request.set_name(name);
    v1::Model model;
    (void)stub->GetModel(&context, request, &model);
  }
  server->Shutdown();
  absl::MutexLock lock(&mu);
  EXPECT_THAT(
      lines,
      ElementsAre("fault: /stamina.v1.ModelService/GetModel ended INTERNAL: broken invariant",
                  "fault: /stamina.v1.ModelService/GetModel ended RESOURCE_EXHAUSTED: out "
                  "of memory: 1 TiB"));
}

}  // namespace
}  // namespace stamina::server
