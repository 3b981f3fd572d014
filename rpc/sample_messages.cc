#include "rpc/sample_messages.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rpc/resource_names.h"
#include "storage/sha256.h"

namespace stamina::rpc {

v1::SampleResponse ProgressMessage(SamplePhase phase, int step, int total_steps) {
  v1::SampleResponse message;
  v1::SampleProgress* progress = message.mutable_progress();
  progress->set_phase(static_cast<v1::SamplePhase>(phase));
  progress->set_step(step);
  progress->set_total_steps(total_steps);
  return message;
}

v1::SampleResponse ImageMessage(const SampledImage& image, const std::string& version) {
  v1::SampleResponse message;
  v1::GeneratedImage* out = message.mutable_image();
  out->set_index(image.index);
  out->set_png(image.png);
  out->set_width(image.width);
  out->set_height(image.height);
  out->set_seed(image.seed);
  out->set_version(version);
  return message;
}

absl::Status RelayToSink(const v1::SampleResponse& response, SampleSink& sink) {
  if (response.has_progress()) {
    const v1::SampleProgress& p = response.progress();
    sink.Progress(static_cast<SamplePhase>(p.phase()), p.step(), p.total_steps());
    return absl::OkStatus();
  }
  if (response.has_image()) {
    const v1::GeneratedImage& image = response.image();
    return sink.Image({.index = image.index(),
                       .png = image.png(),
                       .width = image.width(),
                       .height = image.height(),
                       .seed = image.seed()});
  }
  return absl::InvalidArgumentError("response: neither progress nor an image");
}

internal::v1::ModelRecipe RecipeToProto(const ModelRecipe& recipe) {
  internal::v1::ModelRecipe out;
  out.set_model(FormatModelName(recipe.model_id));
  if (recipe.version.has_value()) {
    out.set_version(FormatVersionName(recipe.model_id, *recipe.version));
  }
  out.set_base_model(FormatBaseModelName(recipe.base_model_id));
  out.set_base_model_digest(recipe.base_model_digest);
  for (const std::string& digest : recipe.adapter_digests) out.add_adapter_digests(digest);
  for (const std::string& token : recipe.tokens) out.add_tokens(token);
  return out;
}

absl::StatusOr<std::string> SamplerName(int sampler, absl::string_view field) {
  switch (sampler) {
    case v1::SAMPLER_UNSPECIFIED:
    case v1::SAMPLER_DDIM:
      return std::string("ddim");
    case v1::SAMPLER_PNDM:
      return std::string("pndm");
    case v1::SAMPLER_EULER:
      return std::string("euler");
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", sampler, " is not a known Sampler"));
  }
}

v1::Sampler SamplerOf(absl::string_view name) {
  if (name == "pndm") return v1::SAMPLER_PNDM;
  if (name == "euler") return v1::SAMPLER_EULER;
  return v1::SAMPLER_DDIM;
}

internal::v1::SampleRequest BackendRequest(const ModelRecipe& recipe,
                                           const SampleParams& params) {
  internal::v1::SampleRequest out;
  *out.mutable_recipe() = RecipeToProto(recipe);
  out.set_tenant(recipe.tenant_id);
  v1::SampleRequest* request = out.mutable_request();
  request->set_model(out.recipe().model());
  request->set_version(out.recipe().version());
  request->set_prompt(params.prompt);
  request->set_negative_prompt(params.negative_prompt);
  request->set_image_count(params.count);
  request->set_steps(params.steps);
  request->set_guidance_scale(params.guidance_scale);
  request->set_seed(params.seed);
  request->set_width(params.width);
  request->set_height(params.height);
  request->set_sampler(SamplerOf(params.sampler));
  return out;
}

absl::StatusOr<ModelRecipe> RecipeFromProto(const internal::v1::ModelRecipe& in,
                                            const std::string& tenant,
                                            absl::string_view field) {
  ModelRecipe recipe{.tenant_id = tenant};
  STAMINA_ASSIGN_OR_RETURN(ModelName model,
                           ParseModelName(in.model(), absl::StrCat(field, ".model")));
  recipe.model_id = model.model;
  if (!in.version().empty()) {
    STAMINA_ASSIGN_OR_RETURN(
        VersionName version,
        ParseVersionName(in.version(), absl::StrCat(field, ".version")));
    if (version.model != recipe.model_id) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".version: not a version of ", in.model()));
    }
    recipe.version = version.version;
  }
  STAMINA_ASSIGN_OR_RETURN(
      recipe.base_model_id,
      ParseBaseModelName(in.base_model(), absl::StrCat(field, ".base_model")));
  recipe.base_model_digest = in.base_model_digest();
  for (const std::string& digest : in.adapter_digests()) {
    if (!storage::IsSha256Hex(digest)) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".adapter_digests: \"", digest.substr(0, 80), "\" is not a SHA-256"));
    }
    recipe.adapter_digests.push_back(digest);
  }
  recipe.tokens.assign(in.tokens().begin(), in.tokens().end());
  if (!recipe.tokens.empty() && recipe.tokens.size() != recipe.adapter_digests.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".tokens: one per adapter digest, or none"));
  }
  return recipe;
}

absl::StatusOr<SampleParams> ParamsFromProto(const v1::SampleRequest& in,
                                             absl::string_view field) {
  auto positive = [&](int value, absl::string_view name) -> absl::Status {
    if (value > 0) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".", name, ": must be positive (the front end fills it in)"));
  };
  STAMINA_RETURN_IF_ERROR(positive(in.image_count(), "image_count"));
  STAMINA_RETURN_IF_ERROR(positive(in.steps(), "steps"));
  if (in.width() < 0 || in.height() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".width, ", field, ".height: must not be negative"));
  }
  if (in.guidance_scale() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".guidance_scale: must not be negative"));
  }
  STAMINA_ASSIGN_OR_RETURN(std::string sampler,
                           SamplerName(in.sampler(), absl::StrCat(field, ".sampler")));
  return SampleParams{.prompt = in.prompt(),
                      .negative_prompt = in.negative_prompt(),
                      .count = in.image_count(),
                      .steps = in.steps(),
                      .guidance_scale = in.guidance_scale(),
                      .seed = in.seed(),
                      .width = in.width(),
                      .height = in.height(),
                      .sampler = std::move(sampler)};
}

void ToProto(const ComputeDeviceReport& device, v1::ComputeDevice* out) {
  out->set_role(device.role);
  out->set_device(device.device);
  out->set_description(device.description);
  out->set_memory_bytes(device.memory_bytes);
  out->set_compute_dtype(device.compute_dtype);
}

ComputeDeviceReport FromProto(const v1::ComputeDevice& device) {
  return {.role = device.role(),
          .device = device.device(),
          .description = device.description(),
          .memory_bytes = device.memory_bytes(),
          .compute_dtype = device.compute_dtype()};
}

std::vector<v1::ComputeDevice> CountDevices(const std::vector<ComputeDeviceReport>& reports) {
  std::map<ComputeDeviceReport, int> counts;
  for (const ComputeDeviceReport& report : reports) ++counts[report];
  std::vector<v1::ComputeDevice> devices;
  for (const auto& [report, count] : counts) {
    v1::ComputeDevice& device = devices.emplace_back();
    ToProto(report, &device);
    device.set_processes(count);
  }
  return devices;
}

}  // namespace stamina::rpc
