#include "server/sampler_service_impl.h"

#include "common/status_macros.h"
#include "server/grpc_status.h"
#include "server/resource_names.h"

namespace stamina::server {

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
    limits->set_min_training_steps(l.min_training_steps);
    limits->set_max_training_steps(l.max_training_steps);
    limits->set_min_sample_steps(l.min_sample_steps);
    limits->set_max_sample_steps(l.max_sample_steps);
    limits->set_max_images_per_sample(l.max_images_per_sample);
    limits->set_min_sample_side(l.min_sample_side);
    limits->set_max_sample_side(l.max_sample_side);
    limits->set_max_guidance_scale(l.max_guidance_scale);
    limits->set_max_prompt_length(l.max_prompt_length);
    for (auto method : {v1::TRAINING_METHOD_STAMINA, v1::TRAINING_METHOD_CLORA,
                        v1::TRAINING_METHOD_LORA}) {
      response->add_training_methods(method);
    }
    STAMINA_ASSIGN_OR_RETURN(std::vector<storage::BaseModelRecord> bases,
                             ctx_->models->ListBaseModels());
    for (const auto& base : bases) {
      v1::BaseModel* out = response->add_base_models();
      out->set_name(FormatBaseModelName(base.id));
      out->set_display_name(base.id);
      out->set_digest(base.digest);
      out->set_default_training_steps(defaults_.steps);
    }
    response->set_server_version(ctx_->server_version);
    return absl::OkStatus();
  };
  return ToGrpcStatus(run());
}

}  // namespace stamina::server
