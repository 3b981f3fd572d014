// File: server/api_server.h
//
// The front end's composition root: opens the registry and blob store under a
// data directory, wires the stamina.v1 services to them, and serves gRPC with
// the standard health service (NOT_SERVING while shutting down) and server
// reflection. The stores are exposed for the in-process worker, admin tools
// and tests. A version a job commits is warmed up on the sampler in the
// background (server/model_warmer.h).
//
//   STAMINA_ASSIGN_OR_RETURN(auto server, ApiServer::Create(
//       {.listen_address = "127.0.0.1:0", .data_dir = dir}));
//   ... server->port() ...
//   server->Shutdown(absl::Seconds(5));
//
// Thread-safe. Shutdown() is idempotent; the destructor shuts down.
#ifndef STAMINA_SERVER_API_SERVER_H_
#define STAMINA_SERVER_API_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/ids.h"
#include "grpcpp/server.h"
#include "rpc/health_listener.h"
#include "rpc/internal_auth.h"
#include "rpc/sample_router.h"
#include "server/auth.h"
#include "server/blob_grants.h"
#include "server/call_limits.h"
#include "server/device_directory.h"
#include "server/erasure_prover.h"
#include "server/model_warmer.h"
#include "server/sample_request.h"
#include "server/service_context.h"
#include "server/training_settings.h"
#include "server/upkeep.h"
#include "server/work_queue_service_impl.h"
#include "storage/caching_tenant_store.h"
#include "storage/file_blob_store.h"
#include "storage/job_change_feed.h"
#include "storage/registry_database.h"
#include "storage/sqlite_erasure_store.h"
#include "storage/sqlite_job_store.h"
#include "storage/sqlite_lineage_store.h"
#include "storage/sqlite_model_store.h"
#include "storage/sqlite_tenant_store.h"
#include "storage/sqlite_webhook_outbox.h"
#include "webhooks/curl_sender.h"
#include "webhooks/dispatcher.h"

namespace stamina::server {

class AdminServiceImpl;
class BlobServiceImpl;
class ConceptServiceImpl;
class ModelServiceImpl;
class SamplerServiceImpl;
class TrainingServiceImpl;
class ServerMetrics;

class ApiServer {
 public:
  struct Options {
    // host:port; port 0 picks a free one (see port()).
    std::string listen_address = "127.0.0.1:0";
    // registry.db and blobs/ live here; created if missing.
    std::string data_dir;
    // TLS: PEM files of the server's certificate chain and private key. Both
    // empty serves plaintext (loopback, or behind a TLS-terminating proxy);
    // only one set is INVALID_ARGUMENT, an unreadable file NOT_FOUND.
    std::string tls_cert_file;
    std::string tls_key_file;
    ServiceLimits limits;
    TrainingDefaults training;
    // Registered at start-up (idempotent).
    std::vector<storage::BaseModelRecord> base_models;
    absl::Duration watch_poll_interval = absl::Milliseconds(100);
    Clock* clock = Clock::Real();  // not owned
    // Prometheus endpoint (host:port); empty disables metrics.
    std::string metrics_address;
    // Plaintext grpc.health.v1-only port for probes (rpc/health_listener.h);
    // empty: none (health is still served on the API listener).
    std::string health_listen_address;
    // The internal listener (host:port; port 0 picks one, see
    // internal_port()): the WorkQueue for remote workers, the BlobService
    // for sampler replicas and the AdminService for operators, for the
    // principals of internal_tokens (needed when set); audit lines go to log. Empty: no internal services (in-process workers and sampler
    // only). Same TLS settings as the public listener.
    std::string internal_listen_address;
    rpc::InternalTokens internal_tokens;
    WorkQueueOptions work_queue;  // its `tokens` are set to internal_tokens
    // Makes the Sample RPC's backend once the stores are open (the embedded
    // sampler reads adapters from the blob store); null: Sample is
    // UNIMPLEMENTED. The server owns what it returns.
    std::function<absl::StatusOr<std::unique_ptr<rpc::SampleRouter>>(
        const ServiceContext&)>
        sampler_factory;
    SampleDefaults sample_defaults;
    // With a sampler, each version a job commits is warmed up on it in the
    // background before its first Sample (server/model_warmer.h).
    bool warm_new_versions = true;
    // Upkeep (server/upkeep.h): how often expired leases are requeued, how
    // often the blob sweep runs and the age under which it keeps blobs.
    absl::Duration lease_check_interval = absl::Seconds(5);
    absl::Duration blob_sweep_interval = absl::Hours(1);
    // Upkeep's chore that returns free heap pages to the OS (server/upkeep.h);
    // null: never.
    std::function<void()> release_free_memory;
    absl::Duration memory_release_interval = absl::Seconds(30);
    absl::Duration blob_sweep_min_age = absl::Hours(1);
    // Webhooks (webhooks/): each job change with a URL is delivered from
    // the registry's outbox, signed with the tenant's secret.
    struct Webhooks {
      bool enabled = true;
      // Allow loopback, link-local and private targets (tests, private
      // deployments); otherwise such URLs are INVALID_ARGUMENT.
      bool allow_private_targets = false;
      absl::Duration initial_backoff = absl::Seconds(5);
      absl::Duration max_backoff = absl::Hours(1);
      int max_attempts = 24;
    };
    Webhooks webhooks;
    // One line per notable event (warm-ups); may be empty.
    std::function<void(const std::string&)> log;
  };

  static absl::StatusOr<std::unique_ptr<ApiServer>> Create(Options options);
  ~ApiServer();

  int port() const { return port_; }
  // The internal listener's port, or 0 without one.
  int internal_port() const { return internal_port_; }
  // The metrics HTTP port, or 0 when metrics are off.
  int metrics_port() const;
  // The health-only port, or 0 without one.
  int health_port() const { return health_ == nullptr ? 0 : health_->port(); }

  // Health goes NOT_SERVING, then in-flight calls get up to `grace`.
  void Shutdown(absl::Duration grace);

  // Tenants and keys, through the API-key cache every writer must pass.
  storage::TenantStore& tenants() { return *cached_tenants_; }
  storage::SqliteModelStore& models() { return *models_; }
  storage::SqliteLineageStore& lineage() { return *lineage_; }
  // The job store every writer goes through (it feeds WatchJob).
  storage::JobStore& jobs() { return *notifying_jobs_; }
  storage::BlobStore& blobs() { return *blobs_; }
  // The registry's id generator and the options' clock (for composition).
  const ServiceContext& context() const { return context_; }
  // The training devices GetCapabilities reports (the embedded worker adds
  // its own).
  DeviceDirectory& devices() { return *devices_; }
  // The Sample RPC's backend and the warmer of new versions; null without a
  // sampler (and without warming).
  const rpc::SampleRouter* sampler() const { return sampler_.get(); }
  const ModelWarmer* warmer() const { return warmer_.get(); }
  const Upkeep& upkeep() const { return *upkeep_; }

 private:
  ApiServer() = default;

  RandomIdGenerator ids_;
  std::unique_ptr<storage::RegistryDatabase> db_;
  std::unique_ptr<storage::SqliteTenantStore> tenants_;
  std::unique_ptr<storage::CachingTenantStore> cached_tenants_;
  std::unique_ptr<storage::SqliteModelStore> models_;
  std::unique_ptr<storage::SqliteLineageStore> lineage_;
  std::unique_ptr<storage::SqliteErasureStore> erasures_;
  std::unique_ptr<storage::SqliteJobStore> jobs_;
  std::unique_ptr<storage::SqliteWebhookOutbox> webhook_outbox_;
  std::unique_ptr<webhooks::CurlWebhookSender> webhook_sender_;
  storage::JobChangeFeed job_changes_;
  std::unique_ptr<storage::NotifyingJobStore> notifying_jobs_;
  std::unique_ptr<CallLimits> calls_;
  std::unique_ptr<storage::BlobCollector> blob_collector_;
  std::unique_ptr<Upkeep> upkeep_;
  std::unique_ptr<storage::FileBlobStore> blobs_;
  std::unique_ptr<Authenticator> auth_;
  ServiceContext context_;
  std::unique_ptr<rpc::SampleRouter> sampler_;
  std::unique_ptr<ModelWarmer> warmer_;
  std::unique_ptr<ErasureProver>
      erasure_prover_;  // uses sampler_ too  // uses sampler_: declared after it
  std::unique_ptr<ModelServiceImpl> model_service_;
  std::unique_ptr<ConceptServiceImpl> concept_service_;
  std::unique_ptr<TrainingServiceImpl> training_service_;
  std::unique_ptr<SamplerServiceImpl> sampler_service_;
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<WorkQueueServiceImpl> work_queue_service_;
  std::unique_ptr<BlobServiceImpl> blob_service_;
  std::unique_ptr<AdminServiceImpl> admin_service_;
  rpc::InternalTokens internal_tokens_;
  std::unique_ptr<BlobGrants> blob_grants_;
  std::unique_ptr<DeviceDirectory> devices_;
  // Reads the outbox and job_changes_: declared after them.
  std::unique_ptr<webhooks::WebhookDispatcher> webhook_dispatcher_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> internal_server_;
  std::unique_ptr<rpc::HealthListener> health_;
  int port_ = 0;
  int internal_port_ = 0;
  bool shut_down_ = false;
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_API_SERVER_H_
