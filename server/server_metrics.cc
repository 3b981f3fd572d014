#include "server/server_metrics.h"

#include <chrono>
#include <exception>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "rpc/sample_messages.h"

namespace stamina::server {
namespace {

// Reads job counts from the store at scrape time.
class QueueDepthCollector final : public prometheus::Collectable {
 public:
  explicit QueueDepthCollector(storage::JobStore* jobs) : jobs_(jobs) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family;
    family.name = "stamina_job_queue_depth";
    family.help = "Training jobs by state (queued, running, failed)";
    family.type = prometheus::MetricType::Gauge;
    auto counts = jobs_->Count();
    if (!counts.ok()) return {};
    for (auto [state, value] : {std::pair{"queued", counts->queued},
                                std::pair{"running", counts->running},
                                std::pair{"failed", counts->failed}}) {
      prometheus::ClientMetric metric;
      metric.label.push_back({"state", state});
      metric.gauge.value = static_cast<double>(value);
      family.metric.push_back(metric);
    }
    return {family};
  }

 private:
  storage::JobStore* const jobs_;
};

// Counts the processes per device at scrape time: the training devices the
// directory holds, the sampling devices the router knows.
class DevicesCollector final : public prometheus::Collectable {
 public:
  DevicesCollector(const DeviceDirectory* devices, const rpc::SampleRouter* sampler)
      : devices_(devices), sampler_(sampler) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family;
    family.name = "stamina_compute_devices";
    family.help = "Processes training or sampling on each device";
    family.type = prometheus::MetricType::Gauge;
    for (const v1::ComputeDevice& device : rpc::CountDevices(ServingDevices(devices_, sampler_))) {
      prometheus::ClientMetric metric;
      metric.label = {{"role", device.role()},
                      {"device", device.device()},
                      {"compute_dtype", device.compute_dtype()},
                      {"description", device.description()}};
      metric.gauge.value = device.processes();
      family.metric.push_back(metric);
    }
    return {family};
  }

 private:
  const DeviceDirectory* const devices_;
  const rpc::SampleRouter* const sampler_;
};

// Reads the sampler's cache statistics at scrape time.
class SamplerCacheCollector final : public prometheus::Collectable {
 public:
  explicit SamplerCacheCollector(const rpc::SampleRouter* sampler) : sampler_(sampler) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const rpc::SamplerStats stats = sampler_->Stats();
    auto family = [](const char* name, const char* help, prometheus::MetricType type) {
      prometheus::MetricFamily f;
      f.name = name;
      f.help = help;
      f.type = type;
      return f;
    };
    auto metric = [](double value, bool counter, const char* label = nullptr,
                     const char* label_value = nullptr) {
      prometheus::ClientMetric m;
      if (label != nullptr) m.label.push_back({label, label_value});
      (counter ? m.counter.value : m.gauge.value) = value;
      return m;
    };
    auto requests = family("stamina_sampler_cache_requests_total",
                           "Folded-model cache lookups by result",
                           prometheus::MetricType::Counter);
    requests.metric = {metric(static_cast<double>(stats.hits), true, "result", "hit"),
                       metric(static_cast<double>(stats.misses), true, "result", "miss")};
    auto evictions = family("stamina_sampler_cache_evictions_total",
                            "Folded models evicted to stay in the memory budget",
                            prometheus::MetricType::Counter);
    evictions.metric = {metric(static_cast<double>(stats.evictions), true)};
    auto bytes = family("stamina_sampler_cache_bytes",
                        "Bytes of the folded models in the sampler cache",
                        prometheus::MetricType::Gauge);
    bytes.metric = {metric(static_cast<double>(stats.bytes), false)};
    auto models = family("stamina_sampler_cache_models",
                         "Folded models in the sampler cache",
                         prometheus::MetricType::Gauge);
    models.metric = {metric(static_cast<double>(stats.entries), false)};
    auto running = family("stamina_sampler_running",
                          "Sample requests running now", prometheus::MetricType::Gauge);
    running.metric = {metric(stats.running, false)};
    auto waiting = family("stamina_sampler_waiting",
                          "Sample requests waiting for a slot or memory",
                          prometheus::MetricType::Gauge);
    waiting.metric = {metric(stats.waiting, false)};
    auto working = family("stamina_sampler_working_bytes",
                          "Sampling memory reserved by the running requests",
                          prometheus::MetricType::Gauge);
    working.metric = {metric(static_cast<double>(stats.working_bytes), false)};
    auto busy = family("stamina_sampler_busy_total",
                       "Sample requests refused because the queue was full",
                       prometheus::MetricType::Counter);
    busy.metric = {metric(static_cast<double>(stats.refused_busy), true)};
    return {requests, evictions, bytes, models, running, waiting, working, busy};
  }

 private:
  const rpc::SampleRouter* const sampler_;
};

// Times one RPC from its first server-side hook to the status it sends.
class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(ServerMetrics* metrics, std::string method)
      : metrics_(metrics),
        method_(std::move(method)),
        start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
              .count();
      metrics_->RecordRpc(method_, methods->GetSendStatus().error_code(), seconds);
    }
    methods->Proceed();
  }

 private:
  ServerMetrics* const metrics_;
  const std::string method_;
  const std::chrono::steady_clock::time_point start_;
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(ServerMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info->method());
  }

 private:
  ServerMetrics* const metrics_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ServerMetrics>> ServerMetrics::Create(
    Options options) {
  if (options.jobs == nullptr) return absl::InvalidArgumentError("jobs: required");
  std::unique_ptr<ServerMetrics> m(new ServerMetrics());
  m->registry_ = std::make_shared<prometheus::Registry>();
  m->requests_ = &prometheus::BuildCounter()
                      .Name("stamina_rpc_requests_total")
                      .Help("gRPC requests by method and status code")
                      .Register(*m->registry_);
  m->durations_ = &prometheus::BuildHistogram()
                       .Name("stamina_rpc_duration_seconds")
                       .Help("gRPC request latency by method")
                       .Register(*m->registry_);
  m->training_seconds_ =
      &prometheus::BuildHistogram()
           .Name("stamina_training_job_seconds")
           .Help("Wall seconds of each training job attempt that committed a version")
           .Register(*m->registry_)
           .Add({}, prometheus::Histogram::BucketBoundaries{1, 5, 15, 30, 60, 120, 300,
                                                            600, 1200, 3600});
  m->drift_ = &prometheus::BuildGauge()
                   .Name("stamina_concept_drift")
                   .Help(
                       "Forgetting metric: RMS pixel drift of each concept's samples since the "
                       "version that learned it, at the latest version that measured it")
                   .Register(*m->registry_);
  m->drift_measurements_ = &prometheus::BuildHistogram()
                                .Name("stamina_concept_drift_measurements")
                                .Help("Every concept drift measured at a committed version")
                                .Register(*m->registry_)
                                .Add({}, prometheus::Histogram::BucketBoundaries{
                                             0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5});
  m->queue_depth_ = std::make_shared<QueueDepthCollector>(options.jobs);
  try {
    // civetweb reports a port it cannot bind by throwing: the only
    // exception this layer catches.
    m->exposer_ = std::make_unique<prometheus::Exposer>(options.listen_address);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(
        "metrics endpoint ", options.listen_address, ": ", e.what()));
  }
  m->exposer_->RegisterCollectable(m->registry_);
  m->exposer_->RegisterCollectable(m->queue_depth_);
  if (options.sampler != nullptr) {
    m->sampler_cache_ = std::make_shared<SamplerCacheCollector>(options.sampler);
    m->exposer_->RegisterCollectable(m->sampler_cache_);
  }
  m->devices_ = std::make_shared<DevicesCollector>(options.devices, options.sampler);
  m->exposer_->RegisterCollectable(m->devices_);
  const auto ports = m->exposer_->GetListeningPorts();
  if (ports.empty()) return absl::UnavailableError("metrics endpoint has no port");
  m->port_ = ports.front();
  return m;
}

ServerMetrics::~ServerMetrics() = default;

void ServerMetrics::RecordRpc(const std::string& method, int code,
                              double seconds) {
  requests_
      ->Add({{"method", method},
             {"code", std::string(StatusCodeName(static_cast<absl::StatusCode>(code)))}})
      .Increment();
  durations_
      ->Add({{"method", method}},
            prometheus::Histogram::BucketBoundaries{
                0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120})
      .Observe(seconds);
}

void ServerMetrics::RecordTrainingJob(double seconds) {
  training_seconds_->Observe(seconds);
}

void ServerMetrics::RecordConceptDrift(const std::string& tenant, const std::string& model,
                                       const std::string& concept_name, double drift) {
  drift_measurements_->Observe(drift);
  const std::map<std::string, std::string> labels = {
      {"tenant", tenant}, {"model", model}, {"concept", concept_name}};
  absl::MutexLock lock(&drift_mu_);
  for (auto it = drift_series_.begin(); it != drift_series_.end(); ++it) {
    if (it->first == labels) {
      drift_series_.splice(drift_series_.end(), drift_series_, it);
      break;
    }
  }
  if (drift_series_.empty() || drift_series_.back().first != labels) {
    drift_series_.emplace_back(labels, &drift_->Add(labels));
    if (drift_series_.size() > kMaxDriftSeries) {
      drift_->Remove(drift_series_.front().second);
      drift_series_.pop_front();
    }
  }
  drift_series_.back().second->Set(drift);
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
ServerMetrics::NewInterceptorFactory() {
  return std::make_unique<MetricsInterceptorFactory>(this);
}

}  // namespace stamina::server
