// stamina-sampler: a sampler replica for scale-out. Serves the internal
// stamina.internal.v1.SamplerBackend to staminad (started with
// --sampler_backends=<this address>,... and a `sampler <this address> TOKEN`
// line in its --internal_tokens_file; this replica reads the same TOKEN from
// --internal_token_file), which routes each model to a stable replica;
// builds folded models from the base model it has locally and the adapter
// artifacts it reads from staminad's BlobService on its internal listener
// (only those of models sent to it; cached under --data_dir,
// digest-checked), into an LRU cache of --cache_bytes. Flags are parsed here only. On
// SIGTERM/SIGINT it drains (new calls are UNAVAILABLE, so the front end tries the next replica),
// then in-flight calls get --grace_seconds.
//
//   bazel run //sampler:stamina-sampler -- --listen=0.0.0.0:7071
//       --blob_server=staminad:7071 --internal_token_file=/run/secrets/token
//       --data_dir=/var/cache/stamina
//
// With --listen=host:0 it picks a free port; it prints `port N` on stdout.
// TLS: --tls_cert/--tls_key serve SamplerBackend over TLS (staminad then
// connects with --sampler_tls_ca), and --tls_ca (or --tls) reaches a TLS
// staminad, as for stamina-worker.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/process.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server_builder.h"
#include "rpc/health_listener.h"
#include "rpc/internal_channel.h"
#include "rpc/tls_credentials.h"
#include "sampler/grpc_blob_store.h"
#include "sampler/in_process_sampler.h"
#include "sampler/sampler_backend_service_impl.h"
#include "worker/torch_setup.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7071",
          "gRPC address (host:port); port 0 picks one (printed as `port N`)");
ABSL_FLAG(std::string, blob_server, "127.0.0.1:7071",
          "staminad address (host:port) whose BlobService serves the adapters");
ABSL_FLAG(std::string, internal_token_file, "",
          "File (mode 600) holding this replica's internal token, as in staminad's "
          "--internal_tokens_file; empty = $STAMINA_INTERNAL_TOKEN");
ABSL_FLAG(std::string, data_dir, "stamina-sampler-data",
          "Local cache of fetched adapter artifacts");
ABSL_FLAG(int64_t, cache_bytes, int64_t{1} << 30, "Memory budget of the folded-model cache");
ABSL_FLAG(int, max_concurrent, 0, "Concurrent Sample calls; 0 = no cap");
ABSL_FLAG(int64_t, memory_bytes, int64_t{2} << 30,
          "Working memory of the Sample requests running at once (beyond the cache)");
ABSL_FLAG(int, slots, 2, "Sample requests running at once");
ABSL_FLAG(int, threads_per_slot, 0,
          "Torch threads of each slot (0: --torch_threads split between the slots)");
ABSL_FLAG(int, queue, 32, "Sample requests waiting before new ones are busy");
ABSL_FLAG(int, queue_per_tenant, 8, "The same, per tenant");
ABSL_FLAG(std::string, base_model, "stamina-tiny-v1", "The base model (architecture)");
ABSL_FLAG(std::string, base_model_dir, "models/stamina-tiny-v1",
          "Directory of the base model's files; when missing, random weights");
ABSL_FLAG(uint64_t, base_model_seed, 1, "Seed of the random-weights fallback");
ABSL_FLAG(int, torch_threads, 0, "LibTorch intra-op threads; 0 = all cores");
ABSL_FLAG(std::string, device, "auto",
          "Where models compute: auto (the first CUDA device, else the CPU), cpu, cuda, cuda:N");
ABSL_FLAG(std::string, compute_dtype, "auto",
          "Forward-pass precision: auto (bf16 on CUDA, fp32 on the CPU), fp32, bf16, fp16; "
          "weights stay fp32");
ABSL_FLAG(std::string, health_listen, "",
          "Plaintext port serving only grpc.health.v1 (host:port), for probes that "
          "cannot speak TLS (Kubernetes); empty = none");
ABSL_FLAG(int, grace_seconds, 10, "Shutdown grace period");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain: serve SamplerBackend over TLS (with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_ca, "",
          "Connect to a TLS --blob_server, trusting this PEM CA certificate");
ABSL_FLAG(bool, tls, false,
          "Connect to --blob_server over TLS, trusting the system's CA certificates");

namespace {

void LogLine(const std::string& line) {
  std::fprintf(stderr, "stamina-sampler: %s\n", line.c_str());
}

int Fail(const absl::Status& status) {
  LogLine(status.ToString());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (!stamina::StartDaemon(argc, argv, LogLine)) return 1;
  auto listener = stamina::rpc::ServerCredentialsFor(
      {.cert_file = absl::GetFlag(FLAGS_tls_cert), .key_file = absl::GetFlag(FLAGS_tls_key)});
  if (!listener.ok()) return Fail(listener.status());
  auto internal = stamina::rpc::DialInternal(
      {.address = absl::GetFlag(FLAGS_blob_server),
       .token_file = absl::GetFlag(FLAGS_internal_token_file),
       .tls = {.enabled = absl::GetFlag(FLAGS_tls), .ca_file = absl::GetFlag(FLAGS_tls_ca)}});
  if (!internal.ok()) return Fail(internal.status());
  auto base = stamina::worker::StartModelProcess(
      {.id = absl::GetFlag(FLAGS_base_model),
       .dir = absl::GetFlag(FLAGS_base_model_dir),
       .seed = absl::GetFlag(FLAGS_base_model_seed)},
      absl::GetFlag(FLAGS_torch_threads),
      {.device = absl::GetFlag(FLAGS_device), .compute_dtype = absl::GetFlag(FLAGS_compute_dtype)},
      LogLine);
  if (!base.ok()) return Fail(base.status());

  auto blobs = stamina::sampler::GrpcBlobStore::Create(
      {.channel = internal->channel,
       .internal_token = internal->token,
       .cache_dir = stamina::WorkspacePath(absl::GetFlag(FLAGS_data_dir)) + "/blobs"});
  if (!blobs.ok()) return Fail(blobs.status());
  auto sampler = stamina::sampler::InProcessSampler::Create(
      {.blobs = blobs->get(),
       .base_models = {*base},
       .device = {.device = absl::GetFlag(FLAGS_device),
                  .compute_dtype = absl::GetFlag(FLAGS_compute_dtype)},
       .cache_bytes = absl::GetFlag(FLAGS_cache_bytes),
       .slots = absl::GetFlag(FLAGS_slots),
       .threads_per_slot = absl::GetFlag(FLAGS_threads_per_slot),
       .memory_budget_bytes = absl::GetFlag(FLAGS_memory_bytes),
       .max_waiting = absl::GetFlag(FLAGS_queue),
       .max_waiting_per_tenant = absl::GetFlag(FLAGS_queue_per_tenant)});
  if (!sampler.ok()) return Fail(sampler.status());
  stamina::sampler::SamplerBackendServiceImpl service(
      {.sampler = sampler->get(),
       .internal_token = internal->token,
       .max_concurrent_samples = absl::GetFlag(FLAGS_max_concurrent)});

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), *listener, &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return Fail(absl::UnavailableError("cannot listen on " + absl::GetFlag(FLAGS_listen)));
  }
  std::unique_ptr<stamina::rpc::HealthListener> health;
  if (!absl::GetFlag(FLAGS_health_listen).empty()) {
    auto listening = stamina::rpc::HealthListener::Create(
        {.listen_address = absl::GetFlag(FLAGS_health_listen)});
    if (!listening.ok()) return Fail(listening.status());
    health = std::move(*listening);
  }
  std::printf("port %d\n", port);
  std::fflush(stdout);
  LogLine(absl::StrCat("serving ", base->id, " on port ", port,
                       absl::GetFlag(FLAGS_tls_cert).empty() ? " (plaintext)" : " (TLS)",
                       ", adapters from ", absl::GetFlag(FLAGS_blob_server), ", cache budget ",
                       absl::GetFlag(FLAGS_cache_bytes), " bytes"));
  const int signal_number = stamina::AwaitStopSignal();
  LogLine(absl::StrCat("signal ", signal_number, ", draining"));
  service.StartDraining();
  server->GetHealthCheckService()->SetServingStatus(false);
  if (health != nullptr) health->SetServing(false);
  server->Shutdown(std::chrono::system_clock::now() +
                   absl::ToChronoMilliseconds(absl::Seconds(absl::GetFlag(FLAGS_grace_seconds))));
  return 0;
}
