// File: rpc/health_listener_test.cc
#include "rpc/health_listener.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"

namespace stamina::rpc {
namespace {

// grpc.health.v1.Health/Check for the whole server (an empty request); the
// raw response bytes: field 1 (status) varint, 1 = SERVING, 2 = NOT_SERVING.
grpc::Status Check(int port, const std::string& method, std::string* response_bytes) {
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  grpc::internal::RpcMethod rpc(method.c_str(), grpc::internal::RpcMethod::NORMAL_RPC, channel);
  grpc::ByteBuffer request, response;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const grpc::Status status =
      grpc::internal::BlockingUnaryCall(channel.get(), rpc, &context, request, &response);
  grpc::Slice slice;
  response_bytes->clear();
  if (status.ok() && response.TrySingleSlice(&slice).ok()) {
    response_bytes->assign(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return status;
}

TEST(HealthListenerTest, ServesHealthUntilDrainedAndNothingElse) {
  // As in the binaries, whose API listeners turn gRPC's default health
  // service on for the whole process: this listener's own must answer.
  grpc::EnableDefaultHealthCheckService(true);
  auto listener = HealthListener::Create({.listen_address = "127.0.0.1:0"});
  ASSERT_TRUE(listener.ok()) << listener.status();
  const int port = (*listener)->port();
  ASSERT_GT(port, 0);

  std::string bytes;
  ASSERT_TRUE(Check(port, "/grpc.health.v1.Health/Check", &bytes).ok());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // SERVING

  (*listener)->SetServing(false);
  ASSERT_TRUE(Check(port, "/grpc.health.v1.Health/Check", &bytes).ok());
  EXPECT_EQ(bytes, std::string("\x08\x02", 2));  // NOT_SERVING

  // No API is reachable on the plaintext port.
  EXPECT_EQ(Check(port, "/stamina.v1.ModelService/ListModels", &bytes).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST(HealthListenerTest, RefusesAnEmptyOrTakenAddress) {
  EXPECT_EQ(HealthListener::Create({.listen_address = ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto first = HealthListener::Create({.listen_address = "127.0.0.1:0"});
  ASSERT_TRUE(first.ok());
  auto second =
      HealthListener::Create({.listen_address = absl::StrCat("127.0.0.1:", (*first)->port())});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace stamina::rpc
