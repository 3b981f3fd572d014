// File: app/embedded_service.h
//
// EmbeddedService: the all-in-one staminad composed from its parts: the
// ApiServer (stamina.v1 over the registry and blobs in a data directory),
// in-process training slots (worker/: LocalJobSource + TrainingExecutor +
// Worker) and the in-process sampler (sampler/) behind the Sample RPC, all on
// one base model. Composition only: it holds no logic of its own, and its
// header includes neither torch nor the worker's or sampler's internals.
// Flags stay in main.cc; tests build the same thing from options.
//
//   STAMINA_ASSIGN_OR_RETURN(auto service, EmbeddedService::Create(options));
//   ... service->server().port() ...
//   service->Shutdown(absl::Seconds(10));
//
// Thread-safe as its parts are. Shutdown() is idempotent; the destructor
// shuts down.
#ifndef STAMINA_APP_EMBEDDED_SERVICE_H_
#define STAMINA_APP_EMBEDDED_SERVICE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/api_server.h"
#include "worker/base_model_spec.h"
#include "worker/job_executor.h"
#include "worker/local_job_source.h"
#include "worker/worker.h"

namespace stamina::app {

class EmbeddedService {
 public:
  struct Options {
    // The front end; its base_models gain the resolved base model and its
    // sampler_factory is set here.
    server::ApiServer::Options api;
    // The base model (files, or random weights when allowed and missing).
    worker::BaseModelSpec base_model;
    // Where the in-process worker and sampler compute.
    worker::DeviceSpec device;
    int worker_slots = 1;
    // false: the slots exist but wait for worker()->Start() (tests).
    bool start_worker = true;
    absl::Duration lease_ttl = absl::Seconds(60);
    absl::Duration worker_poll_interval = absl::Milliseconds(500);
    absl::Duration min_heartbeat_interval = absl::Seconds(1);
    // The in-process worker's forgetting-metric budget
    // (worker::TrainingExecutorOptions::drift_budget).
    double drift_budget = 0.2;
    // worker::TrainingExecutorOptions::micro_batch_size.
    int micro_batch_size = 0;
    // 0 disables the sampler (Sample is UNIMPLEMENTED).
    int64_t sampler_cache_bytes = int64_t{1} << 30;
    // The in-process sampler's admission (sampler/in_process_sampler.h):
    // working memory of the requests running at once, slots, and the
    // waiting requests in all and per tenant before Sample is busy.
    int64_t sampler_memory_bytes = int64_t{2} << 30;
    int sampler_slots = 2;
    bool sampler_dedicated_threads = true;  // InProcessSampler::Options
    int sampler_threads_per_slot = 0;       // InProcessSampler::Options
    int sampler_max_waiting = 32;
    int sampler_max_waiting_per_tenant = 8;
    // One line per notable event; may be null.
    std::function<void(const std::string&)> log;
  };

  static absl::StatusOr<std::unique_ptr<EmbeddedService>> Create(Options options);
  ~EmbeddedService();

  server::ApiServer& server() { return *server_; }
  // Null when worker_slots is 0.
  worker::Worker* worker() { return worker_.get(); }
  const worker::ResolvedBaseModel& base_model() const { return base_; }

  // Stops the training slots (running jobs go back to the queue), then the
  // front end (in-flight calls get `grace`).
  void Shutdown(absl::Duration grace);

 private:
  EmbeddedService() = default;

  worker::ResolvedBaseModel base_;
  std::unique_ptr<server::ApiServer> server_;
  std::unique_ptr<worker::LocalJobSource> source_;
  std::unique_ptr<worker::JobExecutor> executor_;
  std::unique_ptr<worker::Worker> worker_;
  bool shut_down_ = false;
};

}  // namespace stamina::app

#endif  // STAMINA_APP_EMBEDDED_SERVICE_H_
