#include "app/embedded_service.h"

#include <utility>

#include "common/status_macros.h"
#include "sampler/in_process_sampler.h"
#include "worker/torch_setup.h"
#include "worker/training_executor.h"

namespace stamina::app {

absl::StatusOr<std::unique_ptr<EmbeddedService>> EmbeddedService::Create(Options options) {
  std::unique_ptr<EmbeddedService> s(new EmbeddedService());
  STAMINA_ASSIGN_OR_RETURN(s->base_, worker::ResolveBaseModel(options.base_model));
  const std::string warning =
      worker::RandomWeightsWarning(s->base_, "\"" + options.base_model.dir + "\"");
  if (!warning.empty() && options.log) options.log(warning);
  options.api.base_models.push_back({.id = s->base_.id, .digest = s->base_.digest});
  if (options.sampler_cache_bytes > 0) {
    const sampler::InProcessSampler::Options sampling{
        .base_models = {s->base_},
        .device = options.device,
        .cache_bytes = options.sampler_cache_bytes,
        .slots = options.sampler_slots,
        .dedicated_threads = options.sampler_dedicated_threads,
        .threads_per_slot = options.sampler_threads_per_slot,
        .memory_budget_bytes = options.sampler_memory_bytes,
        .max_waiting = options.sampler_max_waiting,
        .max_waiting_per_tenant = options.sampler_max_waiting_per_tenant};
    options.api.sampler_factory = [sampling](const server::ServiceContext& context)
        -> absl::StatusOr<std::unique_ptr<rpc::SampleRouter>> {
      sampler::InProcessSampler::Options with_blobs = sampling;
      with_blobs.blobs = context.blobs;
      STAMINA_ASSIGN_OR_RETURN(std::unique_ptr<sampler::InProcessSampler> sampler,
                               sampler::InProcessSampler::Create(std::move(with_blobs)));
      return std::unique_ptr<rpc::SampleRouter>(std::move(sampler));
    };
  }
  if (!options.api.log) options.api.log = options.log;
  Clock* clock = options.api.clock;
  STAMINA_ASSIGN_OR_RETURN(s->server_, server::ApiServer::Create(std::move(options.api)));
  if (options.worker_slots <= 0) return s;
  STAMINA_ASSIGN_OR_RETURN(rpc::ComputeDeviceReport device,
                           worker::DescribeDevice(options.device, rpc::kTrainingRole));
  s->server_->devices().AddPermanent("staminad", device);
  STAMINA_ASSIGN_OR_RETURN(
      s->source_,
      worker::LocalJobSource::Create({.jobs = &s->server_->jobs(),
                                      .models = &s->server_->models(),
                                      .lineage = &s->server_->lineage(),
                                      .blobs = &s->server_->blobs(),
                                      .lease_ttl = options.lease_ttl,
                                      .on_succeeded = s->server_->context().on_job_succeeded}));
  STAMINA_ASSIGN_OR_RETURN(
      s->executor_,
      worker::NewTrainingExecutor({.base_models = {s->base_},
                                   .device = options.device,
                                   .clock = clock,
                                   .min_heartbeat_interval = options.min_heartbeat_interval,
                                   .drift_budget = options.drift_budget,
                                   .micro_batch_size = options.micro_batch_size,
                                   .log = options.log}));
  STAMINA_ASSIGN_OR_RETURN(s->worker_,
                           worker::Worker::Create({.source = s->source_.get(),
                                                   .executor = s->executor_.get(),
                                                   .slots = options.worker_slots,
                                                   .name = "staminad",
                                                   .poll_interval = options.worker_poll_interval,
                                                   .log = options.log}));
  if (options.start_worker) s->worker_->Start();
  return s;
}

void EmbeddedService::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (worker_ != nullptr) worker_->Stop();
  if (server_ != nullptr) server_->Shutdown(grace);
}

EmbeddedService::~EmbeddedService() { Shutdown(absl::Seconds(1)); }

}  // namespace stamina::app
