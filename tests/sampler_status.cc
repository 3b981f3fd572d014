// Test helper: prints a stamina-sampler replica's GetStatus, one line per
// cached model ("cached <model> <version or -> <bytes> <hits>"), then
// "cache_bytes <n>". Exits 1 when the call fails.
//
//   sampler_status --server=127.0.0.1:7071 --internal_token_file=FILE
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "grpcpp/grpcpp.h"
#include "rpc/internal_auth.h"
#include "stamina/internal/v1/sampler_backend.grpc.pb.h"

ABSL_FLAG(std::string, server, "", "The replica (host:port)");
ABSL_FLAG(std::string, internal_token_file, "", "The replica's internal token (a file)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto token = stamina::rpc::ReadSecretFile(absl::GetFlag(FLAGS_internal_token_file));
  if (!token.ok()) {
    std::fprintf(stderr, "%s\n", token.status().ToString().c_str());
    return 1;
  }
  auto stub = stamina::internal::v1::SamplerBackend::NewStub(grpc::CreateChannel(
      absl::GetFlag(FLAGS_server), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + *token);
  stamina::internal::v1::GetStatusResponse status;
  const grpc::Status result =
      stub->GetStatus(&context, stamina::internal::v1::GetStatusRequest(), &status);
  if (!result.ok()) {
    std::fprintf(stderr, "GetStatus: %s\n", result.error_message().c_str());
    return 1;
  }
  for (const auto& model : status.cached_models()) {
    std::printf("cached %s %s %lld %lld\n", model.model().c_str(),
                model.version().empty() ? "-" : model.version().c_str(),
                static_cast<long long>(model.bytes()), static_cast<long long>(model.hits()));
  }
  std::printf("cache_bytes %lld\n", static_cast<long long>(status.cache_bytes()));
  if (status.has_device()) {
    std::printf("device %s %s %s\n", status.device().role().c_str(),
                status.device().device().c_str(), status.device().compute_dtype().c_str());
  }
  return 0;
}
