// File: tests/loopback.h
//
// What the integration tests over loopback share: a directory of their own
// under TEST_TMPDIR, a plain HTTP GET (the metrics endpoint), the
// stamina.v1 stubs on one plaintext channel to a server's port, a call
// context carrying an API key, and the internal principals' tokens. Test-only.
// Thread-safe: functions of their arguments (and the file system).
#ifndef STAMINA_TESTS_LOOPBACK_H_
#define STAMINA_TESTS_LOOPBACK_H_

#include <memory>
#include <string>

#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "rpc/internal_auth.h"
#include "stamina/v1/concept_service.grpc.pb.h"
#include "stamina/v1/model_service.grpc.pb.h"
#include "stamina/v1/sampler_service.grpc.pb.h"
#include "stamina/v1/training_service.grpc.pb.h"

namespace stamina {

// TEST_TMPDIR/<name> (/tmp/<name> outside Bazel).
std::string TestPath(const std::string& name);

// TestPath(name), removed first (a failed removal fails the test), so that
// every test starts from an empty directory.
std::string FreshTestDir(const std::string& name);

// The response (status line, headers, body) to `GET path` on
// 127.0.0.1:port; empty when nothing listens there.
std::string HttpGet(int port, const std::string& path);

// The public API's stubs on one plaintext channel to 127.0.0.1:port.
struct ApiStubs {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::ModelService::Stub> models;
  std::unique_ptr<v1::ConceptService::Stub> concepts;
  std::unique_ptr<v1::TrainingService::Stub> training;
  std::unique_ptr<v1::SamplerService::Stub> sampler;
};
ApiStubs ConnectApi(int port);

// A call context that presents `key` (`authorization: Bearer <key>`).
std::unique_ptr<grpc::ClientContext> WithApiKey(const std::string& key);

// The internal principals of the loopback tests: worker pool "pool",
// sampler replica "replica" and operator "ops", with these tokens.
inline constexpr char kTestWorkerToken[] = "test-worker-token-0123456789abcdef";
inline constexpr char kTestSamplerToken[] = "test-sampler-token-0123456789abcdef";
inline constexpr char kTestAdminToken[] = "test-admin-token-0123456789abcdef";
rpc::InternalTokens TestInternalTokens();

}  // namespace stamina

#endif  // STAMINA_TESTS_LOOPBACK_H_
