#include "server/api_server.h"

#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/server_builder.h"
#include "rpc/tls_credentials.h"
#include "server/admin_service_impl.h"
#include "server/blob_service_impl.h"
#include "server/concept_service_impl.h"
#include "server/fault_log.h"
#include "server/malformed_requests.h"
#include "server/model_service_impl.h"
#include "server/sample_request.h"
#include "server/sampler_service_impl.h"
#include "server/server_metrics.h"
#include "server/training_service_impl.h"
#include "stamina/v1/model.pb.h"
#include "storage/registry_backup.h"

namespace stamina::server {

absl::StatusOr<std::unique_ptr<ApiServer>> ApiServer::Create(Options options) {
  if (options.data_dir.empty()) {
    return absl::InvalidArgumentError("data_dir: required");
  }
  STAMINA_ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::ServerCredentials> credentials,
      rpc::ServerCredentialsFor({.cert_file = options.tls_cert_file,
                            .key_file = options.tls_key_file}));
  if (mkdir(options.data_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data_dir ", options.data_dir));
  }
  std::unique_ptr<ApiServer> s(new ApiServer());
  STAMINA_ASSIGN_OR_RETURN(
      s->db_, storage::RegistryDatabase::Open(
                  {.path = options.data_dir + "/registry.db"}));
  STAMINA_ASSIGN_OR_RETURN(
      s->tenants_, storage::SqliteTenantStore::Create(
                       {.db = s->db_.get(), .clock = options.clock, .ids = &s->ids_}));
  STAMINA_ASSIGN_OR_RETURN(
      s->models_,
      storage::SqliteModelStore::Create(
          {.db = s->db_.get(),
           .clock = options.clock,
           .max_models_per_tenant = options.limits.max_models_per_tenant,
           .max_concepts_per_model = options.limits.max_concepts_per_model,
           .max_images_per_concept = options.limits.max_images_per_concept,
           .max_stored_bytes_per_tenant = options.limits.max_stored_bytes_per_tenant}));
  STAMINA_ASSIGN_OR_RETURN(s->lineage_, storage::SqliteLineageStore::Create(
                                            {.db = s->db_.get(), .clock = options.clock}));
  STAMINA_ASSIGN_OR_RETURN(s->erasures_,
                           storage::SqliteErasureStore::Create(
                               {.db = s->db_.get(), .clock = options.clock, .ids = &s->ids_}));
  STAMINA_ASSIGN_OR_RETURN(
      s->jobs_,
      storage::SqliteJobStore::Create(
          {.db = s->db_.get(),
           .clock = options.clock,
           .ids = &s->ids_,
           .max_open_jobs_per_tenant = options.limits.max_queued_jobs_per_tenant,
           .min_images_per_concept = options.limits.min_images_per_concept}));
  STAMINA_ASSIGN_OR_RETURN(s->blobs_, storage::FileBlobStore::Create(
                                          {.root = options.data_dir + "/blobs"}));
  for (const auto& base : options.base_models) {
    STAMINA_RETURN_IF_ERROR(s->models_->PutBaseModel(base).status())
        << "registering base model " << base.id;
  }
  STAMINA_ASSIGN_OR_RETURN(s->cached_tenants_,
                           storage::CachingTenantStore::Create(
                               {.inner = s->tenants_.get(), .clock = options.clock}));
  s->auth_ = std::make_unique<Authenticator>(s->cached_tenants_.get());
  s->internal_tokens_ = std::move(options.internal_tokens);
  s->blob_grants_ = std::make_unique<BlobGrants>(BlobGrants::Options{.clock = options.clock});
  // A long-polling worker leases at least every 30 s; five minutes of
  // silence means it left.
  s->devices_ = std::make_unique<DeviceDirectory>(options.clock, absl::Minutes(5));
  s->notifying_jobs_ =
      std::make_unique<storage::NotifyingJobStore>(s->jobs_.get(), &s->job_changes_);
  s->calls_ = std::make_unique<CallLimits>(options.limits.concurrent_calls);
  s->blob_collector_ = std::make_unique<storage::BlobCollector>(
      storage::BlobCollector::Options{.db = s->db_.get(),
                                      .blobs = s->blobs_.get(),
                                      .clock = options.clock,
                                      .min_age = options.blob_sweep_min_age});
  s->context_ = ServiceContext{.tenants = s->cached_tenants_.get(),
                               .models = s->models_.get(),
                               .lineage = s->lineage_.get(),
                               .erasures = s->erasures_.get(),
                               .jobs = s->notifying_jobs_.get(),
                               .blobs = s->blobs_.get(),
                               .blob_collector = s->blob_collector_.get(),
                               .auth = s->auth_.get(),
                               .calls = s->calls_.get(),
                               .job_changes = &s->job_changes_,
                               .blob_grants = s->blob_grants_.get(),
                               .devices = s->devices_.get(),
                               .clock = options.clock,
                               .ids = &s->ids_,
                               .limits = options.limits,
                               .watch_poll_interval = options.watch_poll_interval};
  if (options.webhooks.enabled) {
    STAMINA_ASSIGN_OR_RETURN(s->webhook_outbox_, storage::SqliteWebhookOutbox::Create(
                                                     {.db = s->db_.get(), .clock = options.clock}));
    STAMINA_ASSIGN_OR_RETURN(
        s->webhook_sender_, webhooks::CurlWebhookSender::Create(
                                {.allow_private_targets = options.webhooks.allow_private_targets}));
    STAMINA_ASSIGN_OR_RETURN(
        s->webhook_dispatcher_,
        webhooks::WebhookDispatcher::Create({.outbox = s->webhook_outbox_.get(),
                                             .sender = s->webhook_sender_.get(),
                                             .clock = options.clock,
                                             .changes = &s->job_changes_,
                                             .initial_backoff = options.webhooks.initial_backoff,
                                             .max_backoff = options.webhooks.max_backoff,
                                             .max_attempts = options.webhooks.max_attempts,
                                             .log = options.log}));
    s->context_.webhooks = s->webhook_outbox_.get();
  }
  s->context_.webhook_allow_private_targets = options.webhooks.allow_private_targets;
  s->context_.on_job_succeeded = [server = s.get()](const storage::JobRecord& job,
                                                     const storage::VersionRecord& version) {
    if (server->warmer_ != nullptr) {
      server->warmer_->Enqueue({.tenant_id = version.tenant_id,
                                .model_id = version.model_id,
                                .version = version.version});
    }
    if (server->erasure_prover_ != nullptr && !job.erasure_id.empty()) {
      server->erasure_prover_->Enqueue(version.tenant_id, version.model_id, job.erasure_id,
                                       version.version);
    }
    if (server->metrics_ == nullptr) return;
    v1::TrainingMetrics metrics;
    if (metrics.ParseFromString(version.metrics)) {
      for (const v1::ConceptDrift& drift : metrics.concept_drift()) {
        const size_t slash = drift.concept().rfind('/');
        server->metrics_->RecordConceptDrift(
            version.tenant_id, version.model_id,
            slash == std::string::npos ? drift.concept() : drift.concept().substr(slash + 1),
            drift.drift());
      }
    }
    if (!job.start_time.has_value()) return;
    server->metrics_->RecordTrainingJob(
        absl::ToDoubleSeconds(server->context_.clock->Now() - *job.start_time));
  };
  s->model_service_ = std::make_unique<ModelServiceImpl>(&s->context_);
  s->concept_service_ = std::make_unique<ConceptServiceImpl>(&s->context_);
  s->training_service_ =
      std::make_unique<TrainingServiceImpl>(&s->context_, options.training);
  if (options.sampler_factory) {
    STAMINA_ASSIGN_OR_RETURN(s->sampler_, options.sampler_factory(s->context_));
  }
  if (s->sampler_ != nullptr && options.warm_new_versions) {
    STAMINA_ASSIGN_OR_RETURN(
        s->warmer_,
        ModelWarmer::Create(
            {.router = s->sampler_.get(),
             .recipe_of = [context = &s->context_](const ModelWarmer::Version& v) {
               return RecipeOf(*context, v.tenant_id, v.model_id, v.version);
             },
             .log = options.log}));
  }
  s->context_.sampler = s->sampler_.get();
  if (s->sampler_ != nullptr) {
    STAMINA_ASSIGN_OR_RETURN(
        s->erasure_prover_,
        ErasureProver::Create(
            {.router = s->sampler_.get(),
             .erasures = s->erasures_.get(),
             .recipe_of =
                 [context = &s->context_](const std::string& tenant, const std::string& model,
                                          std::optional<int64_t> version) {
                   return RecipeOf(*context, tenant, model, version);
                 },
             .params = {.count = 2,
                        .steps = options.sample_defaults.steps,
                        .guidance_scale = options.sample_defaults.guidance_scale,
                        .seed = 1},
             .log = options.log}));
    s->context_.erasure_prover = s->erasure_prover_.get();
  }
  s->sampler_service_ = std::make_unique<SamplerServiceImpl>(
      &s->context_, options.training, s->sampler_.get(), options.sample_defaults);
  if (!options.internal_listen_address.empty()) {
    if (s->internal_tokens_.empty()) {
      return absl::InvalidArgumentError(
          "internal_tokens: the internal listener needs at least one principal");
    }
    WorkQueueOptions work_queue = options.work_queue;
    work_queue.tokens = &s->internal_tokens_;
    s->work_queue_service_ = std::make_unique<WorkQueueServiceImpl>(&s->context_, work_queue);
    s->blob_service_ = std::make_unique<BlobServiceImpl>(
        BlobServiceImpl::Options{.blobs = s->blobs_.get(),
                                 .tokens = &s->internal_tokens_,
                                 .grants = s->blob_grants_.get(),
                                 .chunk_bytes = options.work_queue.chunk_bytes});
    storage::RegistryDatabase* registry = s->db_.get();
    const std::string backups = options.data_dir + "/backups";
    s->admin_service_ = std::make_unique<AdminServiceImpl>(AdminServiceImpl::Options{
        .tenants = s->cached_tenants_.get(),
        .tokens = &s->internal_tokens_,
        .backup =
            [registry, backups](absl::Time now, int keep) {
              return storage::BackUpRegistry(*registry,
                                             {.directory = backups, .now = now, .keep = keep});
            },
        .clock = options.clock,
        .log = options.log});
  }

  if (!options.metrics_address.empty()) {
    STAMINA_ASSIGN_OR_RETURN(s->metrics_,
                             ServerMetrics::Create({.listen_address = options.metrics_address,
                                                    .jobs = s->jobs_.get(),
                                                    .sampler = s->sampler_.get(),
                                                    .devices = s->devices_.get()}));
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address, credentials, &s->port_);
  builder.SetMaxReceiveMessageSize(8 << 20);
  // gRPC's default 8 KiB metadata limit drops the whole connection of a call
  // with a long header; with room for 64 KiB, such a call reaches the
  // authenticator and gets a status that says what is wrong.
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, 64 << 10);
  // The synchronous server runs each call on a thread of its own: bound them
  // (past the cap gRPC answers RESOURCE_EXHAUSTED), leaving room beyond the
  // long calls' caps for short calls and the internal services.
  const CallLimits::Options& caps = options.limits.concurrent_calls;
  grpc::ResourceQuota quota("staminad");
  quota.SetMaxThreads(caps.sample.total + caps.upload.total + caps.watch.total + 64);
  builder.SetResourceQuota(quota);
  {
    // The metrics interceptor comes first so that it records the status the
    // client gets, after the malformed-request rewrite.
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    if (s->metrics_ != nullptr) interceptors.push_back(s->metrics_->NewInterceptorFactory());
    if (options.log) interceptors.push_back(NewFaultLogInterceptorFactory(options.log));
    interceptors.push_back(NewMalformedRequestInterceptorFactory());
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  builder.RegisterService(s->model_service_.get());
  builder.RegisterService(s->concept_service_.get());
  builder.RegisterService(s->training_service_.get());
  builder.RegisterService(s->sampler_service_.get());
  STAMINA_ASSIGN_OR_RETURN(
      s->upkeep_, Upkeep::Create({.jobs = s->notifying_jobs_.get(),
                                  .blob_collector = s->blob_collector_.get(),
                                  .models = s->models_.get(),
                                  .clock = options.clock,
                                  .lease_check_interval = options.lease_check_interval,
                                  .blob_sweep_interval = options.blob_sweep_interval,
                                  .release_free_memory = options.release_free_memory,
                                  .memory_release_interval = options.memory_release_interval,
                                  .log = options.log}));
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address));
  }
  if (s->work_queue_service_ != nullptr) {
    grpc::ServerBuilder internal;
    internal.AddListeningPort(options.internal_listen_address, credentials,
                              &s->internal_port_);
    internal.SetMaxReceiveMessageSize(8 << 20);
    {
      std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
          interceptors;
      if (options.log) interceptors.push_back(NewFaultLogInterceptorFactory(options.log));
      interceptors.push_back(NewMalformedRequestInterceptorFactory());
      internal.experimental().SetInterceptorCreators(std::move(interceptors));
    }
    internal.RegisterService(s->work_queue_service_.get());
    internal.RegisterService(s->blob_service_.get());
    internal.RegisterService(s->admin_service_.get());
    s->internal_server_ = internal.BuildAndStart();
    if (s->internal_server_ == nullptr || s->internal_port_ == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options.internal_listen_address));
    }
  }
  if (!options.health_listen_address.empty()) {
    STAMINA_ASSIGN_OR_RETURN(
        s->health_, rpc::HealthListener::Create({.listen_address = options.health_listen_address}));
  }
  return s;
}

void ApiServer::Shutdown(absl::Duration grace) {
  if (warmer_ != nullptr) warmer_->Stop();
  if (erasure_prover_ != nullptr) erasure_prover_->Stop();
  if (upkeep_ != nullptr) upkeep_->Stop();
  // Undelivered events stay in the outbox for the next start.
  webhook_dispatcher_.reset();
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  server_->GetHealthCheckService()->SetServingStatus(false);
  if (health_ != nullptr) health_->SetServing(false);
  const auto deadline = std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace);
  server_->Shutdown(deadline);
  if (internal_server_ != nullptr) internal_server_->Shutdown(deadline);
}

int ApiServer::metrics_port() const {
  return metrics_ == nullptr ? 0 : metrics_->port();
}

ApiServer::~ApiServer() { Shutdown(absl::Seconds(1)); }

}  // namespace stamina::server
