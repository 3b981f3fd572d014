#include "server/sampler_service_impl.h"

#include "common/status_macros.h"
#include "rpc/grpc_status.h"
#include "rpc/resource_names.h"
#include "rpc/sample_messages.h"
#include "server/adapter_export.h"
#include "server/sample_request.h"

namespace stamina::server {
namespace {

// Writes one Sample call's progress and images to its stream.
class StreamSink final : public rpc::SampleSink {
 public:
  StreamSink(grpc::ServerContext* call, grpc::ServerWriter<v1::SampleResponse>* writer,
             std::string version)
      : call_(call), writer_(writer), version_(std::move(version)) {}

  bool Cancelled() override { return gone_ || call_->IsCancelled(); }

  void Progress(rpc::SamplePhase phase, int step, int total_steps) override {
    if (!gone_ && !writer_->Write(rpc::ProgressMessage(phase, step, total_steps)))
      gone_ = true;
  }

  absl::Status Image(const rpc::SampledImage& image) override {
    if (gone_ || !writer_->Write(rpc::ImageMessage(image, version_))) {
      gone_ = true;
      return absl::CancelledError("the client went away");
    }
    return absl::OkStatus();
  }

 private:
  grpc::ServerContext* const call_;
  grpc::ServerWriter<v1::SampleResponse>* const writer_;
  const std::string version_;
  bool gone_ = false;
};

// Writes one ExportModel call's pieces to its stream; the first message
// names the version.
class ExportStream final : public rpc::ExportSink {
 public:
  ExportStream(grpc::ServerContext* call,
               grpc::ServerWriter<v1::ExportModelResponse>* writer, std::string version)
      : call_(call), writer_(writer), version_(std::move(version)) {}

  bool Cancelled() override { return gone_ || call_->IsCancelled(); }

  absl::Status Piece(const std::string& path, int64_t offset, absl::string_view data,
                     int64_t file_bytes) override {
    v1::ExportModelResponse message;
    if (first_) message.set_version(version_);
    first_ = false;
    v1::ExportFileChunk* chunk = message.mutable_chunk();
    chunk->set_path(path);
    chunk->set_offset(offset);
    chunk->set_data(std::string(data));
    chunk->set_file_bytes(file_bytes);
    if (gone_ || !writer_->Write(message)) {
      gone_ = true;
      return absl::CancelledError("the client went away");
    }
    return absl::OkStatus();
  }

 private:
  grpc::ServerContext* const call_;
  grpc::ServerWriter<v1::ExportModelResponse>* const writer_;
  const std::string version_;
  bool first_ = true;
  bool gone_ = false;
};

}  // namespace

grpc::Status SamplerServiceImpl::ExportModel(
    grpc::ServerContext* call, const v1::ExportModelRequest* request,
    grpc::ServerWriter<v1::ExportModelResponse>* writer) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    const v1::ExportFormat format = request->format();
    if (format != v1::EXPORT_FORMAT_DIFFUSERS && format != v1::EXPORT_FORMAT_ADAPTERS) {
      return absl::InvalidArgumentError(
          absl::StrCat("format: ", static_cast<int>(format),
                       " is not EXPORT_FORMAT_DIFFUSERS or EXPORT_FORMAT_ADAPTERS"));
    }
    STAMINA_ASSIGN_OR_RETURN(CallLimits::Slot slot,
                             ctx_->calls->Acquire(LongCall::kSample, tenant));
    STAMINA_ASSIGN_OR_RETURN(
        rpc::ModelRecipe recipe,
        ResolveRecipe(*ctx_, tenant, request->model(), request->version()));
    const std::string version =
        recipe.version.has_value() ? rpc::FormatVersionName(recipe.model_id, *recipe.version)
                                   : "";
    ExportStream sink(call, writer, version);
    if (format == v1::EXPORT_FORMAT_ADAPTERS) {
      return ExportAdapters(*ctx_->blobs, recipe, version, sink);
    }
    if (router_ == nullptr) {
      return absl::UnimplementedError("this deployment has no sampler");
    }
    return router_->ExportDiffusers(recipe, request->half_precision(), sink);
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status SamplerServiceImpl::Sample(grpc::ServerContext* call,
                                        const v1::SampleRequest* request,
                                        grpc::ServerWriter<v1::SampleResponse>* writer) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    if (router_ == nullptr) {
      return absl::UnimplementedError("this deployment has no sampler");
    }
    STAMINA_ASSIGN_OR_RETURN(CallLimits::Slot slot,
                             ctx_->calls->Acquire(LongCall::kSample, tenant));
    const int64_t seed = absl::ToUnixMicros(ctx_->clock->Now()) & 0x7fffffff;
    STAMINA_ASSIGN_OR_RETURN(
        rpc::SampleParams params,
        SampleParamsFor(*request, ctx_->limits, sample_defaults_, seed));
    STAMINA_ASSIGN_OR_RETURN(rpc::ModelRecipe recipe,
                             ResolveRecipe(*ctx_, tenant, *request));
    const std::string version =
        recipe.version.has_value()
            ? rpc::FormatVersionName(recipe.model_id, *recipe.version)
            : "";
    std::vector<std::string> known = recipe.tokens;
    if (const auto base = router_->SamplingOf(recipe.base_model_id); base.has_value()) {
      known.insert(known.end(), base->tokens.begin(), base->tokens.end());
    }
    STAMINA_RETURN_IF_ERROR(CheckConceptTokens(params.prompt, "prompt", known, version));
    STAMINA_RETURN_IF_ERROR(
        CheckConceptTokens(params.negative_prompt, "negative_prompt", known, version));
    StreamSink sink(call, writer, version);
    return router_->Sample(recipe, params, sink);
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status SamplerServiceImpl::GetCapabilities(
    grpc::ServerContext* call, const v1::GetCapabilitiesRequest* /*request*/,
    v1::Capabilities* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_RETURN_IF_ERROR(TenantOf(*ctx_, call).status());
    const ServiceLimits& l = ctx_->limits;
    v1::Limits* limits = response->mutable_limits();
    limits->set_min_images_per_concept(l.min_images_per_concept);
    limits->set_max_images_per_concept(l.max_images_per_concept);
    limits->set_max_image_bytes(l.max_image_bytes);
    limits->set_max_image_pixels(l.max_image_pixels);
    limits->set_min_image_side(l.min_image_side);
    limits->set_max_upload_bytes(l.max_upload_bytes);
    for (const char* mime : {"image/jpeg", "image/png", "image/webp"}) {
      limits->add_image_mime_types(mime);
    }
    limits->set_max_queued_jobs_per_tenant(l.max_queued_jobs_per_tenant);
    limits->set_max_concepts_per_model(l.max_concepts_per_model);
    limits->set_max_models_per_tenant(l.max_models_per_tenant);
    limits->set_max_stored_bytes_per_tenant(l.max_stored_bytes_per_tenant);
    limits->set_min_training_steps(l.min_training_steps);
    limits->set_max_training_steps(l.max_training_steps);
    limits->set_min_sample_steps(l.min_sample_steps);
    limits->set_max_sample_steps(l.max_sample_steps);
    limits->set_max_images_per_sample(l.max_images_per_sample);
    limits->set_min_sample_side(l.min_sample_side);
    limits->set_max_sample_side(l.max_sample_side);
    limits->set_max_guidance_scale(l.max_guidance_scale);
    limits->set_max_prompt_length(l.max_prompt_length);
    limits->set_max_concurrent_sample_calls(l.concurrent_calls.sample.per_tenant);
    limits->set_max_concurrent_upload_calls(l.concurrent_calls.upload.per_tenant);
    limits->set_max_concurrent_watch_calls(l.concurrent_calls.watch.per_tenant);
    for (v1::ComputeDevice& device : rpc::CountDevices(ServingDevices(ctx_->devices, router_))) {
      *response->add_devices() = std::move(device);
    }
    for (auto method : {v1::TRAINING_METHOD_STAMINA, v1::TRAINING_METHOD_CLORA,
                        v1::TRAINING_METHOD_LORA}) {
      response->add_training_methods(method);
    }
    STAMINA_ASSIGN_OR_RETURN(std::vector<storage::BaseModelRecord> bases,
                             ctx_->models->ListBaseModels());
    for (const auto& base : bases) {
      v1::BaseModel* out = response->add_base_models();
      out->set_name(rpc::FormatBaseModelName(base.id));
      out->set_display_name(base.id);
      out->set_digest(base.digest);
      out->set_default_training_steps(defaults_.steps);
      out->set_default_sample_steps(sample_defaults_.steps);
      out->set_default_guidance_scale(sample_defaults_.guidance_scale);
      if (router_ != nullptr) {
        if (const auto sizes = router_->SamplingOf(base.id); sizes.has_value()) {
          out->set_resolution(sizes->native_side);
          out->set_max_sample_side(LargestAcceptedSide(sizes->max_side, l));
        }
      }
    }
    response->set_server_version(ctx_->server_version);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

}  // namespace stamina::server
