// stamina-worker: a remote training worker. Pulls jobs from a staminad's
// internal WorkQueue (its --internal_listen; the pool's token is a `worker`
// line of staminad's --internal_tokens_file, read here from
// --internal_token_file) and trains them with the same executor as the
// embedded mode; scale it out as a Deployment.
// Flags are parsed here only. SIGTERM/SIGINT hand the running jobs back to
// the queue and exit.
//
//   bazel run //worker:stamina-worker -- --server=staminad:7071
//       --internal_token_file=/run/secrets/token --slots=1
//       --base_model_dir=models/stamina-tiny-v1
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "common/process.h"
#include "rpc/health_listener.h"
#include "rpc/internal_channel.h"
#include "worker/grpc_job_source.h"
#include "worker/torch_setup.h"
#include "worker/training_executor.h"
#include "worker/worker.h"

ABSL_FLAG(std::string, server, "127.0.0.1:7071",
          "staminad's internal listener (host:port, its --internal_listen)");
ABSL_FLAG(std::string, internal_token_file, "",
          "File (mode 600) holding this worker pool's internal token, as in staminad's "
          "--internal_tokens_file; empty = $STAMINA_INTERNAL_TOKEN");
ABSL_FLAG(std::string, name, "", "Worker name in leases; empty = the host name");
ABSL_FLAG(int, slots, 1, "Concurrent training slots");
ABSL_FLAG(int, poll_ms, 1000, "Wait between polls when the queue is empty");
ABSL_FLAG(std::string, base_model, "stamina-tiny-v1", "The base model (architecture)");
ABSL_FLAG(std::string, base_model_dir, "models/stamina-tiny-v1",
          "Directory of the base model's files; when missing, random weights");
ABSL_FLAG(uint64_t, base_model_seed, 1, "Seed of the random-weights fallback");
ABSL_FLAG(double, drift_budget, 0.2,
          "Share of a job's training compute the forgetting metric may add (the new concept's "
          "reference samples, then earlier concepts' drift); 0 turns it off");
ABSL_FLAG(int, micro_batch_size, 0,
          "Images per forward/backward pass of a training step (gradients accumulated); 0 = "
          "the whole batch. Halved by itself after a device out-of-memory");
ABSL_FLAG(int, torch_threads, 0, "LibTorch intra-op threads; 0 = all cores");
ABSL_FLAG(std::string, device, "auto",
          "Where models compute: auto (the first CUDA device, else the CPU), cpu, cuda, cuda:N");
ABSL_FLAG(std::string, compute_dtype, "auto",
          "Forward-pass precision: auto (bf16 on CUDA, fp32 on the CPU), fp32, bf16, fp16; "
          "weights stay fp32");
ABSL_FLAG(std::string, tls_ca, "",
          "Connect to a TLS staminad (--tls_cert), trusting this PEM CA certificate");
ABSL_FLAG(std::string, health_listen, "",
          "Plaintext port serving only grpc.health.v1 (host:port), for liveness "
          "probes (Kubernetes); empty = none");
ABSL_FLAG(bool, tls, false, "Connect over TLS, trusting the system's CA certificates");

namespace {

void LogLine(const std::string& line) {
  std::fprintf(stderr, "stamina-worker: %s\n", line.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (!stamina::StartDaemon(argc, argv, LogLine)) return 1;
  auto internal = stamina::rpc::DialInternal(
      {.address = absl::GetFlag(FLAGS_server),
       .token_file = absl::GetFlag(FLAGS_internal_token_file),
       .tls = {.enabled = absl::GetFlag(FLAGS_tls), .ca_file = absl::GetFlag(FLAGS_tls_ca)}});
  if (!internal.ok()) {
    LogLine(internal.status().ToString());
    return 1;
  }
  std::string name = absl::GetFlag(FLAGS_name);
  if (name.empty()) {
    char host[256] = {};
    name = gethostname(host, sizeof(host) - 1) == 0 ? host : "worker";
  }
  const stamina::worker::DeviceSpec device_spec{
      .device = absl::GetFlag(FLAGS_device), .compute_dtype = absl::GetFlag(FLAGS_compute_dtype)};
  auto base =
      stamina::worker::StartModelProcess({.id = absl::GetFlag(FLAGS_base_model),
                                          .dir = absl::GetFlag(FLAGS_base_model_dir),
                                          .seed = absl::GetFlag(FLAGS_base_model_seed)},
                                         absl::GetFlag(FLAGS_torch_threads), device_spec, LogLine);
  if (!base.ok()) {
    LogLine(base.status().ToString());
    return 1;
  }
  // Checked by StartModelProcess already; sent with every LeaseJob.
  auto device = stamina::worker::DescribeDevice(device_spec, stamina::rpc::kTrainingRole);
  if (!device.ok()) {
    LogLine(device.status().ToString());
    return 1;
  }
  auto source = stamina::worker::GrpcJobSource::Create({.channel = internal->channel,
                                                        .internal_token = internal->token,
                                                        .base_models = {base->id},
                                                        .device = *device});
  auto executor = stamina::worker::NewTrainingExecutor(
      {.base_models = {*base},
       .device = device_spec,
       .drift_budget = absl::GetFlag(FLAGS_drift_budget),
       .micro_batch_size = absl::GetFlag(FLAGS_micro_batch_size),
       .log = LogLine});
  if (!source.ok() || !executor.ok()) {
    LogLine((source.ok() ? executor.status() : source.status()).ToString());
    return 1;
  }
  auto worker = stamina::worker::Worker::Create(
      {.source = source->get(),
       .executor = executor->get(),
       .slots = absl::GetFlag(FLAGS_slots),
       .name = name,
       .poll_interval = absl::Milliseconds(absl::GetFlag(FLAGS_poll_ms)),
       .log = LogLine});
  if (!worker.ok()) {
    LogLine(worker.status().ToString());
    return 1;
  }
  std::unique_ptr<stamina::rpc::HealthListener> health;
  if (!absl::GetFlag(FLAGS_health_listen).empty()) {
    auto listening = stamina::rpc::HealthListener::Create(
        {.listen_address = absl::GetFlag(FLAGS_health_listen)});
    if (!listening.ok()) {
      LogLine(listening.status().ToString());
      return 1;
    }
    health = std::move(*listening);
  }
  (*worker)->Start();
  LogLine("pulling jobs from " + absl::GetFlag(FLAGS_server) + " as " + name);
  const int signal_number = stamina::AwaitStopSignal();
  LogLine("signal " + std::to_string(signal_number) + ", handing running jobs back");
  if (health != nullptr) health->SetServing(false);
  (*worker)->Stop();
  return 0;
}
