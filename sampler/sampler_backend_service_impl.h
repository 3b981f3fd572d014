// File: sampler/sampler_backend_service_impl.h
//
// stamina.internal.v1.SamplerBackend, the service of a sampler replica
// (stamina-sampler), over an InProcessSampler: the thin gRPC edge of the
// scale-out sampler. Sample converts the front end's recipe and validated
// request (rpc/sample_messages.h) and streams what the sampler produces,
// progress then one message per image, exactly as the public Sample does;
// Warm builds a recipe's model ahead of traffic; GetStatus lists the cached
// folded models with the models and versions that used them. Callers present
// the internal token. While draining, Sample and Warm are UNAVAILABLE, which
// the front end's router answers by trying the model's next replica.
//
// Thread-safe.
#ifndef STAMINA_SAMPLER_SAMPLER_BACKEND_SERVICE_IMPL_H_
#define STAMINA_SAMPLER_SAMPLER_BACKEND_SERVICE_IMPL_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sampler/in_process_sampler.h"
#include "stamina/internal/v1/sampler_backend.grpc.pb.h"

namespace stamina::sampler {

class SamplerBackendServiceImpl final : public internal::v1::SamplerBackend::Service {
 public:
  struct Options {
    InProcessSampler* sampler = nullptr;  // not owned
    // Callers present `authorization: Bearer <internal_token>`; empty
    // refuses every call.
    std::string internal_token;
    // Concurrent Sample calls beyond this are RESOURCE_EXHAUSTED; 0 = no cap.
    int max_concurrent_samples = 0;
  };

  explicit SamplerBackendServiceImpl(Options options) : options_(std::move(options)) {}

  grpc::Status Sample(grpc::ServerContext* call,
                      const internal::v1::SampleRequest* request,
                      grpc::ServerWriter<internal::v1::SampleResponse>* writer) override;
  grpc::Status Warm(grpc::ServerContext* call, const internal::v1::WarmRequest* request,
                    internal::v1::WarmResponse* response) override;
  grpc::Status GetStatus(grpc::ServerContext* call,
                         const internal::v1::GetStatusRequest* request,
                         internal::v1::GetStatusResponse* response) override;

  // From now on Sample and Warm are UNAVAILABLE (before a graceful stop).
  void StartDraining() { draining_ = true; }

 private:
  // (tenant, model name, version name) of a recipe that used a cache entry.
  using Use = std::tuple<std::string, std::string, std::string>;

  absl::Status CheckCall(const grpc::ServerContext& call) const;
  void RecordUse(const rpc::ModelRecipe& recipe,
                 const internal::v1::ModelRecipe& proto, bool sampled);

  const Options options_;
  std::atomic<bool> draining_{false};
  std::atomic<int> in_flight_{0};
  absl::Mutex mu_;
  // Cache key → its users → samples served.
  std::map<std::string, std::map<Use, int64_t>> uses_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stamina::sampler

#endif  // STAMINA_SAMPLER_SAMPLER_BACKEND_SERVICE_IMPL_H_
