// staminad: the embedded Stamina service in one process: the front end
// (stamina.v1 + internal WorkQueue) over a data directory, --worker_slots
// in-process training slots (worker/) and the in-process sampler (sampler/)
// on the built-in base model. Flags are parsed here only; everything else is
// options structs. Stops gracefully on SIGTERM/SIGINT: the worker hands its
// running jobs back to the queue, health goes NOT_SERVING, then in-flight
// calls get --grace_seconds.
//
//   bazel run //app:staminad -- --data_dir=/var/lib/stamina
//       --listen=0.0.0.0:7070 --metrics_listen=0.0.0.0:9090
//       --bootstrap_tenant=acme        (one command line; the key lands in
//       /var/lib/stamina/bootstrap-acme.key)
//
// Scale-out: --internal_listen serves the WorkQueue (remote stamina-worker
// pools) and the BlobService (sampler replicas) on a listener of its own, to
// the principals of --internal_tokens_file (rpc/internal_auth.h: one token
// per worker pool and per replica, never on the command line).
// --sampler_backends=host:port,... sends the Sample RPC to stamina-sampler
// replicas (sampler/main.cc; each model to a stable replica) instead of the
// in-process sampler; each needs a `sampler host:port TOKEN` line. Replicas
// serving TLS (stamina-sampler --tls_cert/--tls_key) are reached with
// --sampler_tls_ca.
//
// The base model's files come from --base_model_dir; while they are missing
// (development), the architecture's random weights are used, with a warning.
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "app/embedded_service.h"
#include "common/allocator.h"
#include "common/process.h"
#include "rpc/internal_auth.h"
#include "rpc/tls_credentials.h"
#include "server/api_server.h"
#include "server/bootstrap_key.h"
#include "server/remote_sample_router.h"
#include "worker/torch_setup.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7070", "gRPC address (host:port)");
ABSL_FLAG(std::string, data_dir, "stamina-data", "Registry and blob directory");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain: serve gRPC over TLS (with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, metrics_listen, "", "Prometheus address; empty = off");
ABSL_FLAG(std::string, health_listen, "",
          "Plaintext port serving only grpc.health.v1 (host:port), for probes that "
          "cannot speak TLS (Kubernetes); empty = none");
ABSL_FLAG(std::string, internal_listen, "",
          "Internal listener (host:port) for remote workers and sampler replicas; "
          "empty = none");
ABSL_FLAG(std::string, internal_tokens_file, "",
          "File of `role name token` lines (mode 600): the worker pools, sampler "
          "replicas and operators that may call the internal listener");
ABSL_FLAG(std::vector<std::string>, base_models, {},
          "Base models to register, as id=sha256 (comma-separated)");
ABSL_FLAG(std::string, bootstrap_tenant, "",
          "Create this tenant if missing, and once an API key written to "
          "--bootstrap_key_file (never printed)");
ABSL_FLAG(std::string, bootstrap_key_file, "",
          "Where --bootstrap_tenant's key is written (mode 600, only when missing); "
          "default DATA_DIR/bootstrap-TENANT.key");
ABSL_FLAG(int, grace_seconds, 10, "Shutdown grace period");
ABSL_FLAG(std::string, base_model, "stamina-tiny-v1",
          "The built-in base model (its architecture name)");
ABSL_FLAG(std::string, base_model_dir, "models/stamina-tiny-v1",
          "Directory of the built-in base model's files; when missing, random "
          "weights (development only)");
ABSL_FLAG(uint64_t, base_model_seed, 1, "Seed of the random-weights fallback");
ABSL_FLAG(int, worker_slots, 1, "In-process training slots; 0 = none");
ABSL_FLAG(double, drift_budget, 0.2,
          "Share of a job's training compute the forgetting metric may add (the new concept's "
          "reference samples, then earlier concepts' drift); 0 turns it off");
ABSL_FLAG(int, micro_batch_size, 0,
          "In-process worker: images per forward/backward pass of a training step (gradients "
          "accumulated); 0 = the whole batch. Halved by itself after a device out-of-memory");
ABSL_FLAG(int64_t, sampler_cache_bytes, int64_t{1} << 30,
          "Memory budget of the sampler's folded-model cache; 0 = no sampler");
ABSL_FLAG(int64_t, sampler_memory_bytes, int64_t{2} << 30,
          "Working memory of the Sample requests running at once (beyond the cached "
          "models); sizes that could never fit are refused");
ABSL_FLAG(int, sampler_slots, 2, "Sample requests running at once");
ABSL_FLAG(int, sampler_threads_per_slot, 0,
          "Torch threads of each sampler slot (0: --torch_threads split between the slots)");
ABSL_FLAG(int, sampler_queue, 32,
          "Sample requests waiting before new ones are RESOURCE_EXHAUSTED (busy)");
ABSL_FLAG(int, sampler_queue_per_tenant, 8, "The same, per tenant");
ABSL_FLAG(std::vector<std::string>, sampler_backends, {},
          "stamina-sampler replicas (host:port, comma-separated) serving Sample; "
          "empty = the in-process sampler (each needs a `sampler host:port TOKEN` "
          "line in --internal_tokens_file and --internal_listen for its blob reads)");
ABSL_FLAG(std::string, sampler_tls_ca, "",
          "Connect to TLS --sampler_backends (their --tls_cert), trusting this PEM CA "
          "certificate");
ABSL_FLAG(bool, sampler_tls, false,
          "Connect to --sampler_backends over TLS, trusting the system's CA certificates");
ABSL_FLAG(int, torch_threads, 0, "LibTorch intra-op threads; 0 = all cores");
ABSL_FLAG(std::string, device, "auto",
          "Where models compute: auto (the first CUDA device, else the CPU), cpu, cuda, cuda:N");
ABSL_FLAG(std::string, compute_dtype, "auto",
          "Forward-pass precision: auto (bf16 on CUDA, fp32 on the CPU), fp32, bf16, fp16; "
          "weights stay fp32");
ABSL_FLAG(int, memory_release_seconds, 30,
          "How often free heap pages go back to the OS at once (jemalloc also returns them "
          "by itself within about a second); 0 = never");
ABSL_FLAG(int, lease_seconds, 60, "Lease of a training job (in-process slots and remote workers)");
ABSL_FLAG(bool, webhooks, true,
          "Deliver signed job events to webhook URLs (docs/api.md, Webhooks)");
ABSL_FLAG(bool, webhook_allow_private_targets, false,
          "Accept webhook URLs on loopback, link-local and private addresses (tests, private "
          "deployments); refused otherwise");
ABSL_FLAG(int, webhook_initial_backoff_ms, 5000,
          "First retry delay of a failed webhook delivery; doubles per attempt up to an hour");
ABSL_FLAG(int, webhook_max_attempts, 24, "Delivery attempts of one webhook event in all");
// Quotas (published in Limits; 0 = none for the per-tenant ones).
ABSL_FLAG(int, max_models_per_tenant, stamina::server::ServiceLimits{}.max_models_per_tenant,
          "Models one tenant may have");
ABSL_FLAG(int, max_concepts_per_model, stamina::server::ServiceLimits{}.max_concepts_per_model,
          "Concepts per model");
ABSL_FLAG(int, max_images_per_concept, stamina::server::ServiceLimits{}.max_images_per_concept,
          "Training images per concept");
ABSL_FLAG(int, max_queued_jobs_per_tenant,
          stamina::server::ServiceLimits{}.max_queued_jobs_per_tenant,
          "Jobs one tenant may have QUEUED or RUNNING");
ABSL_FLAG(int64_t, max_stored_bytes_per_tenant,
          stamina::server::ServiceLimits{}.max_stored_bytes_per_tenant,
          "Bytes of images and adapter artifacts one tenant may hold");

namespace {

void LogLine(const std::string& line) { std::fprintf(stderr, "staminad: %s\n", line.c_str()); }

}  // namespace

int main(int argc, char** argv) {
  if (!stamina::StartDaemon(argc, argv, LogLine)) return 1;

  stamina::server::ApiServer::Options options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_listen);
  options.internal_listen_address = absl::GetFlag(FLAGS_internal_listen);
  options.health_listen_address = absl::GetFlag(FLAGS_health_listen);
  if (!absl::GetFlag(FLAGS_internal_tokens_file).empty()) {
    auto tokens = stamina::rpc::InternalTokens::ReadFile(absl::GetFlag(FLAGS_internal_tokens_file));
    if (!tokens.ok()) {
      LogLine("--internal_tokens_file: " + tokens.status().ToString());
      return 1;
    }
    options.internal_tokens = std::move(*tokens);
  }
  options.work_queue.lease_ttl = absl::Seconds(absl::GetFlag(FLAGS_lease_seconds));
  options.webhooks = {
      .enabled = absl::GetFlag(FLAGS_webhooks),
      .allow_private_targets = absl::GetFlag(FLAGS_webhook_allow_private_targets),
      .initial_backoff = absl::Milliseconds(absl::GetFlag(FLAGS_webhook_initial_backoff_ms)),
      .max_attempts = absl::GetFlag(FLAGS_webhook_max_attempts)};
  if (absl::GetFlag(FLAGS_memory_release_seconds) > 0) {
    options.release_free_memory = [] { stamina::ReleaseFreeMemory(); };
    options.memory_release_interval = absl::Seconds(absl::GetFlag(FLAGS_memory_release_seconds));
  }
  options.limits.max_models_per_tenant = absl::GetFlag(FLAGS_max_models_per_tenant);
  options.limits.max_concepts_per_model = absl::GetFlag(FLAGS_max_concepts_per_model);
  options.limits.max_images_per_concept = absl::GetFlag(FLAGS_max_images_per_concept);
  options.limits.max_queued_jobs_per_tenant = absl::GetFlag(FLAGS_max_queued_jobs_per_tenant);
  options.limits.max_stored_bytes_per_tenant = absl::GetFlag(FLAGS_max_stored_bytes_per_tenant);
  for (const std::string& spec : absl::GetFlag(FLAGS_base_models)) {
    std::vector<std::string> parts = absl::StrSplit(spec, '=');
    if (parts.size() != 2) {
      std::fprintf(stderr, "--base_models: \"%s\" is not id=sha256\n", spec.c_str());
      return 2;
    }
    options.base_models.push_back({.id = parts[0], .digest = parts[1]});
  }
  const int slots = absl::GetFlag(FLAGS_worker_slots);
  int64_t cache_bytes = absl::GetFlag(FLAGS_sampler_cache_bytes);
  const std::vector<std::string> backends = absl::GetFlag(FLAGS_sampler_backends);
  if (!backends.empty()) {
    auto credentials =
        stamina::rpc::ChannelCredentialsFor({.enabled = absl::GetFlag(FLAGS_sampler_tls),
                                             .ca_file = absl::GetFlag(FLAGS_sampler_tls_ca)});
    if (!credentials.ok()) {
      LogLine("--sampler_tls_ca: " + credentials.status().ToString());
      return 1;
    }
    auto replicas = stamina::server::RemoteSampleRouter::ReplicasAt(backends, *credentials,
                                                                    options.internal_tokens);
    if (!replicas.ok()) {
      LogLine("--sampler_backends: " + replicas.status().ToString());
      return 1;
    }
    options.sampler_factory = [replicas = *replicas](const stamina::server::ServiceContext& context)
        -> absl::StatusOr<std::unique_ptr<stamina::rpc::SampleRouter>> {
      auto router = stamina::server::RemoteSampleRouter::Create(
          {.replicas = replicas, .grants = context.blob_grants});
      if (!router.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--sampler_backends: ", router.status().message()));
      }
      return std::unique_ptr<stamina::rpc::SampleRouter>(std::move(*router));
    };
    cache_bytes = 0;  // no in-process sampler
  }
  const stamina::worker::DeviceSpec device = {.device = absl::GetFlag(FLAGS_device),
                                              .compute_dtype = absl::GetFlag(FLAGS_compute_dtype)};
  if (slots > 0 || cache_bytes > 0) {
    auto torch = stamina::worker::SetUpTorch(absl::GetFlag(FLAGS_torch_threads), device);
    if (!torch.ok()) {
      LogLine(torch.status().ToString());
      return 1;
    }
    LogLine(*torch);
  }
  LogLine("allocator: " + stamina::AllocatorDescription());
  auto service = stamina::app::EmbeddedService::Create(
      {.api = options,
       .base_model = {.id = absl::GetFlag(FLAGS_base_model),
                      .dir = stamina::WorkspacePath(absl::GetFlag(FLAGS_base_model_dir)),
                      .random_fallback = true,
                      .random_seed = absl::GetFlag(FLAGS_base_model_seed)},
       .device = device,
       .worker_slots = slots,
       .lease_ttl = absl::Seconds(absl::GetFlag(FLAGS_lease_seconds)),
       .drift_budget = absl::GetFlag(FLAGS_drift_budget),
       .micro_batch_size = absl::GetFlag(FLAGS_micro_batch_size),
       .sampler_cache_bytes = cache_bytes,
       .sampler_memory_bytes = absl::GetFlag(FLAGS_sampler_memory_bytes),
       .sampler_slots = absl::GetFlag(FLAGS_sampler_slots),
       .sampler_threads_per_slot = absl::GetFlag(FLAGS_sampler_threads_per_slot),
       .sampler_max_waiting = absl::GetFlag(FLAGS_sampler_queue),
       .sampler_max_waiting_per_tenant = absl::GetFlag(FLAGS_sampler_queue_per_tenant),
       .log = LogLine});
  if (!service.ok()) {
    std::fprintf(stderr, "staminad: %s\n", service.status().ToString().c_str());
    return 1;
  }
  stamina::server::ApiServer* server = &(*service)->server();
  const std::string tenant = absl::GetFlag(FLAGS_bootstrap_tenant);
  if (!tenant.empty()) {
    std::string key_file = absl::GetFlag(FLAGS_bootstrap_key_file);
    if (key_file.empty()) key_file = absl::StrCat(options.data_dir, "/bootstrap-", tenant, ".key");
    const absl::Status bootstrapped =
        stamina::server::BootstrapTenant(server->tenants(), tenant, key_file, LogLine);
    if (!bootstrapped.ok()) {
      LogLine("--bootstrap_tenant: " + bootstrapped.ToString());
      return 1;
    }
  }
  std::fprintf(stderr,
               "staminad: serving %s on port %d (internal port %d, metrics port %d, health "
               "port %d), %d training slots, sampler %s\n",
               options.tls_cert_file.empty() ? "plaintext" : "TLS", server->port(),
               server->internal_port(), server->metrics_port(), server->health_port(), slots,
               !backends.empty() ? absl::StrCat(backends.size(), " remote replicas").c_str()
                                 : (cache_bytes > 0 ? "in-process" : "off"));
  const int signal_number = stamina::AwaitStopSignal();
  std::fprintf(stderr, "staminad: signal %d, shutting down\n", signal_number);
  (*service)->Shutdown(absl::Seconds(absl::GetFlag(FLAGS_grace_seconds)));
  return 0;
}
