#include "tests/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"

namespace stamina {

std::string TestPath(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
}

std::string FreshTestDir(const std::string& name) {
  const std::string dir = TestPath(name);
  EXPECT_EQ(std::system(("rm -rf '" + dir + "'").c_str()), 0);
  return dir;
}

std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return "";
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  (void)!write(fd, request.data(), request.size());
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
  close(fd);
  return response;
}

ApiStubs ConnectApi(int port) {
  ApiStubs stubs;
  stubs.channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                      grpc::InsecureChannelCredentials());
  stubs.models = v1::ModelService::NewStub(stubs.channel);
  stubs.concepts = v1::ConceptService::NewStub(stubs.channel);
  stubs.training = v1::TrainingService::NewStub(stubs.channel);
  stubs.sampler = v1::SamplerService::NewStub(stubs.channel);
  return stubs;
}

std::unique_ptr<grpc::ClientContext> WithApiKey(const std::string& key) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + key);
  return context;
}

rpc::InternalTokens TestInternalTokens() {
  auto tokens = rpc::InternalTokens::FromEntries(
      {{.principal = {.role = rpc::InternalRole::kWorker, .name = "pool"},
        .token = kTestWorkerToken},
       {.principal = {.role = rpc::InternalRole::kSampler, .name = "replica"},
        .token = kTestSamplerToken},
       {.principal = {.role = rpc::InternalRole::kAdmin, .name = "ops"},
        .token = kTestAdminToken}});
  EXPECT_TRUE(tokens.ok()) << tokens.status();
  return *std::move(tokens);
}

}  // namespace stamina
