// stamina-demo: the main job of `./stamina.sh demo` until the service exists.
//
// It runs what exists today and says so: it configures LibTorch the way every
// Stamina binary will (threads = cores, optimized BLAS check) and measures
// matmul throughput; it serves the stamina.v1 API surface over a real gRPC
// loopback (health + reflection + the generated services, which answer
// UNIMPLEMENTED until the server lands) and prints every RPC. The final shape
// (staminad + CLI: train two concepts, sample, lineage) comes with the
// service issue.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "core/torch_runtime.h"
#include "core/torch_status.h"
#include "google/protobuf/descriptor.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "stamina/v1/concept_service.grpc.pb.h"
#include "stamina/v1/model_service.grpc.pb.h"
#include "stamina/v1/sampler_service.grpc.pb.h"
#include "stamina/v1/training_service.grpc.pb.h"
#include "torch/torch.h"

ABSL_FLAG(int, threads, 0, "LibTorch intra-op threads; 0 = all cores");
ABSL_FLAG(int, matmul_size, 512, "Side of the square matmul benchmark");

namespace {

// Median GFLOP/s of an n x n float matmul.
absl::StatusOr<double> MeasureMatmul(int n) {
  return stamina::core::RunTorch([n] {
    torch::manual_seed(0);
    torch::Tensor a = torch::randn({n, n});
    torch::Tensor b = torch::randn({n, n});
    torch::mm(a, b);  // warm-up
    std::vector<double> seconds;
    for (int i = 0; i < 15; ++i) {
      const auto start = std::chrono::steady_clock::now();
      torch::Tensor c = torch::mm(a, b);
      const auto end = std::chrono::steady_clock::now();
      seconds.push_back(std::chrono::duration<double>(end - start).count());
    }
    std::sort(seconds.begin(), seconds.end());
    return 2.0 * n * n * n / seconds[seconds.size() / 2] / 1e9;
  });
}

void PrintApi() {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const char* name :
       {"stamina.v1.ModelService", "stamina.v1.ConceptService",
        "stamina.v1.TrainingService", "stamina.v1.SamplerService"}) {
    const auto* service = pool->FindServiceByName(name);
    if (service == nullptr) continue;
    std::printf("  %s\n", name);
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* method = service->method(i);
      std::printf("    %-16s (%s%s) -> %s%s\n", method->name().c_str(),
                  method->client_streaming() ? "stream " : "",
                  method->input_type()->name().c_str(),
                  method->server_streaming() ? "stream " : "",
                  method->output_type()->name().c_str());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);

  std::printf("== Stamina demo: what exists today ==\n\n[1/3] LibTorch\n");
  auto runtime = stamina::core::ConfigureTorchRuntime(
      {.threads = absl::GetFlag(FLAGS_threads)});
  if (!runtime.ok()) {
    std::fprintf(stderr, "error: %s\n", runtime.status().ToString().c_str());
    return 1;
  }
  std::printf("  cores available: %d, torch threads: %d\n",
              runtime->available_cores, runtime->threads);
  std::printf("  BLAS: %s%s\n", runtime->blas_library.c_str(),
              runtime->blas_optimized
                  ? ""
                  : "  <- slow reference BLAS: run ./stamina.sh setup");
  const int n = absl::GetFlag(FLAGS_matmul_size);
  auto gflops = MeasureMatmul(n);
  if (!gflops.ok()) {
    std::fprintf(stderr, "error: %s\n", gflops.status().ToString().c_str());
    return 1;
  }
  std::printf("  matmul %dx%d: %.1f GFLOP/s (median of 15)\n", n, n, *gflops);

  std::printf("\n[2/3] gRPC loopback with the stamina.v1 API\n");
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  stamina::v1::ModelService::Service models;
  stamina::v1::ConceptService::Service concepts;
  stamina::v1::TrainingService::Service training;
  stamina::v1::SamplerService::Service sampler;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  for (grpc::Service* service :
       std::vector<grpc::Service*>{&models, &concepts, &training, &sampler}) {
    builder.RegisterService(service);
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "error: could not start the gRPC server\n");
    return 1;
  }
  auto channel = grpc::CreateChannel(absl::StrFormat("127.0.0.1:%d", port),
                                     grpc::InsecureChannelCredentials());
  grpc::ClientContext health_context;
  grpc::health::v1::HealthCheckResponse health;
  grpc::Status health_status = grpc::health::v1::Health::NewStub(channel)->Check(
      &health_context, grpc::health::v1::HealthCheckRequest(), &health);
  std::printf("  listening on 127.0.0.1:%d, health: %s\n", port,
              health_status.ok()
                  ? grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                        health.status())
                        .c_str()
                  : health_status.error_message().c_str());
  grpc::ClientContext call_context;
  stamina::v1::GetCapabilitiesRequest request;
  stamina::v1::Capabilities capabilities;
  grpc::Status call = stamina::v1::SamplerService::NewStub(channel)
                          ->GetCapabilities(&call_context, request,
                                            &capabilities);
  std::printf("  SamplerService.GetCapabilities -> %s (no implementation yet)\n",
              call.error_code() == grpc::StatusCode::UNIMPLEMENTED
                  ? "UNIMPLEMENTED"
                  : call.error_message().c_str());
  server->Shutdown();

  std::printf("\n[3/3] The public API (docs/api.md)\n");
  PrintApi();
  std::printf(
      "\nThe training and sampling service is not built yet; this demo grows "
      "into it.\n");
  return 0;
}
