#include "sampler/sampler_backend_service_impl.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rpc/grpc_status.h"
#include "rpc/internal_calls.h"
#include "rpc/sample_messages.h"

namespace stamina::sampler {
namespace {

// Writes one call's progress and images, wrapped for the internal stream.
class BackendSink final : public rpc::SampleSink {
 public:
  BackendSink(grpc::ServerContext* call,
              grpc::ServerWriter<internal::v1::SampleResponse>* writer, std::string version)
      : call_(call), writer_(writer), version_(std::move(version)) {}

  bool Cancelled() override { return gone_ || call_->IsCancelled(); }

  void Progress(rpc::SamplePhase phase, int step, int total_steps) override {
    internal::v1::SampleResponse message;
    *message.mutable_response() = rpc::ProgressMessage(phase, step, total_steps);
    if (!gone_ && !writer_->Write(message)) gone_ = true;
  }

  absl::Status Image(const rpc::SampledImage& image) override {
    internal::v1::SampleResponse message;
    *message.mutable_response() = rpc::ImageMessage(image, version_);
    if (gone_ || !writer_->Write(message)) {
      gone_ = true;
      return absl::CancelledError("the front end went away");
    }
    return absl::OkStatus();
  }

 private:
  grpc::ServerContext* const call_;
  grpc::ServerWriter<internal::v1::SampleResponse>* const writer_;
  const std::string version_;
  bool gone_ = false;
};

// Holds one of `max` concurrent slots (0: unlimited) while alive.
class InFlight {
 public:
  InFlight(std::atomic<int>& count, int max) : count_(count) {
    admitted_ = count_.fetch_add(1) < max || max <= 0;
  }
  ~InFlight() { count_.fetch_sub(1); }
  bool admitted() const { return admitted_; }

 private:
  std::atomic<int>& count_;
  bool admitted_ = false;
};

}  // namespace

absl::Status SamplerBackendServiceImpl::CheckCall(const grpc::ServerContext& call) const {
  STAMINA_RETURN_IF_ERROR(
      rpc::CheckInternalToken(call, options_.internal_token, "the sampler backend"));
  if (draining_) return absl::UnavailableError("this sampler replica is draining");
  return absl::OkStatus();
}

void SamplerBackendServiceImpl::RecordUse(const rpc::ModelRecipe& recipe,
                                          const internal::v1::ModelRecipe& proto,
                                          bool sampled) {
  absl::MutexLock lock(&mu_);
  int64_t& samples = uses_[InProcessSampler::CacheKey(recipe)][Use{
      recipe.tenant_id, proto.model(), proto.version()}];
  if (sampled) ++samples;
}

grpc::Status SamplerBackendServiceImpl::Sample(
    grpc::ServerContext* call, const internal::v1::SampleRequest* request,
    grpc::ServerWriter<internal::v1::SampleResponse>* writer) {
  auto run = [&]() -> absl::Status {
    STAMINA_RETURN_IF_ERROR(CheckCall(*call));
    STAMINA_ASSIGN_OR_RETURN(
        rpc::ModelRecipe recipe,
        rpc::RecipeFromProto(request->recipe(), request->tenant(), "recipe"));
    STAMINA_ASSIGN_OR_RETURN(rpc::SampleParams params,
                             rpc::ParamsFromProto(request->request(), "request"));
    InFlight slot(in_flight_, options_.max_concurrent_samples);
    if (!slot.admitted()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("this sampler replica runs at most ",
                       options_.max_concurrent_samples, " samples at a time"));
    }
    BackendSink sink(call, writer, request->recipe().version());
    STAMINA_RETURN_IF_ERROR(options_.sampler->Sample(recipe, params, sink));
    RecordUse(recipe, request->recipe(), /*sampled=*/true);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status SamplerBackendServiceImpl::Warm(grpc::ServerContext* call,
                                             const internal::v1::WarmRequest* request,
                                             internal::v1::WarmResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_RETURN_IF_ERROR(CheckCall(*call));
    STAMINA_ASSIGN_OR_RETURN(rpc::ModelRecipe recipe,
                             rpc::RecipeFromProto(request->recipe(), request->tenant(),
                                                     "recipe"));
    response->set_was_cached(options_.sampler->IsCached(recipe));
    const absl::Time start = absl::Now();
    STAMINA_RETURN_IF_ERROR(
        options_.sampler->Warm(recipe, [call] { return call->IsCancelled(); }));
    response->set_load_seconds(absl::ToDoubleSeconds(absl::Now() - start));
    RecordUse(recipe, request->recipe(), /*sampled=*/false);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status SamplerBackendServiceImpl::GetStatus(
    grpc::ServerContext* call, const internal::v1::GetStatusRequest* /*request*/,
    internal::v1::GetStatusResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_RETURN_IF_ERROR(
        rpc::CheckInternalToken(*call, options_.internal_token, "the sampler backend"));
    const std::vector<InProcessSampler::CachedModel> cached =
        options_.sampler->CachedModels();
    int64_t bytes = 0;
    absl::MutexLock lock(&mu_);
    std::set<std::string> live;
    for (const InProcessSampler::CachedModel& entry : cached) {
      live.insert(entry.key);
      bytes += entry.bytes;
      for (const auto& [use, samples] : uses_[entry.key]) {
        internal::v1::GetStatusResponse::CachedModel* out =
            response->add_cached_models();
        out->set_model(std::get<1>(use));
        out->set_version(std::get<2>(use));
        out->set_bytes(entry.bytes);
        out->set_hits(samples);
      }
    }
    // Forget the users of evicted entries.
    for (auto it = uses_.begin(); it != uses_.end();) {
      it = live.count(it->first) > 0 ? std::next(it) : uses_.erase(it);
    }
    response->set_cache_bytes(bytes);
    response->set_cache_budget_bytes(options_.sampler->cache_budget_bytes());
    response->set_draining(draining_);
    for (const rpc::ComputeDeviceReport& device : options_.sampler->Devices()) {
      rpc::ToProto(device, response->mutable_device());
    }
    for (const std::string& id : options_.sampler->BaseModelIds()) {
      const std::optional<rpc::BaseModelSampling> sizes = options_.sampler->SamplingOf(id);
      if (!sizes.has_value()) continue;
      internal::v1::GetStatusResponse::BaseModelSizes* out = response->add_base_models();
      out->set_base_model_id(id);
      out->set_native_side(sizes->native_side);
      out->set_max_side(sizes->max_side);
      for (const std::string& token : sizes->tokens) out->add_tokens(token);
    }
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

}  // namespace stamina::sampler
