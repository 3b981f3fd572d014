// File: server/server_metrics.h
//
// Prometheus metrics of the front end, served by prometheus-cpp on their own
// HTTP port (GET /metrics), named in the Triton style:
//   stamina_rpc_requests_total{method, code}     counter
//   stamina_rpc_duration_seconds{method}         histogram
//   stamina_training_job_seconds                 histogram: wall seconds of
//                                                each job attempt that
//                                                committed a version
//   stamina_concept_drift{tenant,model,concept}  gauge: the forgetting metric,
//                                                each concept's drift at the
//                                                latest version that measured
//                                                it (TrainingMetrics.
//                                                concept_drift; at most
//                                                kMaxDriftSeries series, the
//                                                least recently set dropped)
//   stamina_concept_drift_measurements           histogram of every drift
//                                                measured
//   stamina_job_queue_depth{state}               gauge, read from the job
//                                                store at scrape time: the
//                                                autoscaling signal
//   stamina_sampler_cache_requests_total{result} counter (hit, miss)
//   stamina_sampler_cache_evictions_total        counter
//   stamina_sampler_cache_bytes                  gauge
//   stamina_sampler_cache_models                 gauge
//   stamina_compute_devices{role,device,compute_dtype,description}  gauge:
//       processes training or sampling on each device
//   stamina_sampler_running, _waiting            gauges: Sample admission
//   stamina_sampler_working_bytes                gauge: memory reserved
//   stamina_sampler_busy_total                   counter: refused as busy
// (the sampler's folded-model cache and queue, read at scrape time; Sample latency is
// stamina_rpc_duration_seconds{method=".../Sample"}).
// RPCs are counted by a gRPC server interceptor, so no handler knows about
// metrics. Thread-safe. The JobStore is not owned and must outlive this.
#ifndef STAMINA_SERVER_SERVER_METRICS_H_
#define STAMINA_SERVER_SERVER_METRICS_H_

#include <list>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "rpc/sample_router.h"
#include "server/device_directory.h"
#include "storage/job_store.h"

namespace stamina::server {

class ServerMetrics {
 public:
  struct Options {
    // host:port of the HTTP endpoint; port 0 picks a free one.
    std::string listen_address = "127.0.0.1:0";
    storage::JobStore* jobs = nullptr;  // not owned; for the queue gauge
    const rpc::SampleRouter* sampler = nullptr;  // not owned; may be null
    const DeviceDirectory* devices = nullptr;    // not owned; may be null
  };
  // UNAVAILABLE when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<ServerMetrics>> Create(Options options);
  ~ServerMetrics();

  int port() const { return port_; }

  void RecordRpc(const std::string& method, int code, double seconds);
  // One training job that committed its version after `seconds` (lease to
  // commit of the successful attempt).
  void RecordTrainingJob(double seconds);
  // One drift measurement of a committed version (the forgetting metric).
  void RecordConceptDrift(const std::string& tenant, const std::string& model,
                          const std::string& concept_name, double drift);

  static constexpr size_t kMaxDriftSeries = 10000;

  // For grpc::ServerBuilder::experimental().SetInterceptorCreators().
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  NewInterceptorFactory();

 private:
  ServerMetrics() = default;

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Family<prometheus::Histogram>* durations_ = nullptr;
  prometheus::Histogram* training_seconds_ = nullptr;
  prometheus::Family<prometheus::Gauge>* drift_ = nullptr;
  prometheus::Histogram* drift_measurements_ = nullptr;
  absl::Mutex drift_mu_;
  // Series of drift_, least recently set first.
  std::list<std::pair<std::map<std::string, std::string>, prometheus::Gauge*>> drift_series_
      ABSL_GUARDED_BY(drift_mu_);
  std::shared_ptr<prometheus::Collectable> queue_depth_;
  std::shared_ptr<prometheus::Collectable> sampler_cache_;
  std::shared_ptr<prometheus::Collectable> devices_;
  int port_ = 0;
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_SERVER_METRICS_H_
