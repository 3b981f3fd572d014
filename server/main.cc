// staminad: the Stamina front end (stamina.v1 + internal WorkQueue) over a
// data directory. Flags are parsed here only; everything else is
// ApiServer::Options. Stops gracefully on SIGTERM/SIGINT: health goes
// NOT_SERVING, then in-flight calls get --grace_seconds.
//
//   bazel run //server:staminad -- --data_dir=/var/lib/stamina
//       --listen=0.0.0.0:7070 --metrics_listen=0.0.0.0:9090
//       --bootstrap_tenant=acme        (one command line)
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_split.h"
#include "server/api_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7070", "gRPC address (host:port)");
ABSL_FLAG(std::string, data_dir, "stamina-data", "Registry and blob directory");
ABSL_FLAG(std::string, metrics_listen, "", "Prometheus address; empty = off");
ABSL_FLAG(std::string, internal_token, "",
          "Token remote workers present; empty = no WorkQueue");
ABSL_FLAG(std::vector<std::string>, base_models, {},
          "Base models to register, as id=sha256 (comma-separated)");
ABSL_FLAG(std::string, bootstrap_tenant, "",
          "Create this tenant if missing and print a new API key on stdout");
ABSL_FLAG(int, grace_seconds, 10, "Shutdown grace period");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // Block the stop signals before any thread starts, then wait for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  stamina::server::ApiServer::Options options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_listen);
  options.work_queue.internal_token = absl::GetFlag(FLAGS_internal_token);
  for (const std::string& spec : absl::GetFlag(FLAGS_base_models)) {
    std::vector<std::string> parts = absl::StrSplit(spec, '=');
    if (parts.size() != 2) {
      std::fprintf(stderr, "--base_models: \"%s\" is not id=sha256\n", spec.c_str());
      return 2;
    }
    options.base_models.push_back({.id = parts[0], .digest = parts[1]});
  }
  auto server = stamina::server::ApiServer::Create(options);
  if (!server.ok()) {
    std::fprintf(stderr, "staminad: %s\n", server.status().ToString().c_str());
    return 1;
  }
  const std::string tenant = absl::GetFlag(FLAGS_bootstrap_tenant);
  if (!tenant.empty()) {
    if (!(*server)->tenants().GetTenant(tenant).ok()) {
      auto created = (*server)->tenants().CreateTenant(tenant, tenant);
      if (!created.ok()) {
        std::fprintf(stderr, "staminad: %s\n", created.status().ToString().c_str());
        return 1;
      }
    }
    auto key = (*server)->tenants().CreateApiKey(tenant);
    if (!key.ok()) {
      std::fprintf(stderr, "staminad: %s\n", key.status().ToString().c_str());
      return 1;
    }
    std::printf("api_key %s %s\n", tenant.c_str(), key->secret.c_str());
    std::fflush(stdout);
  }
  std::fprintf(stderr, "staminad: serving on port %d (metrics port %d)\n",
               (*server)->port(), (*server)->metrics_port());
  int signal_number = 0;
  sigwait(&stop, &signal_number);
  std::fprintf(stderr, "staminad: signal %d, shutting down\n", signal_number);
  (*server)->Shutdown(absl::Seconds(absl::GetFlag(FLAGS_grace_seconds)));
  return 0;
}
