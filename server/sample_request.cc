#include "server/sample_request.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "rpc/resource_names.h"
#include "rpc/sample_messages.h"
#include "server/display_text.h"
#include "server/field_checks.h"

namespace stamina::server {
namespace {

absl::Status CheckSide(absl::string_view field, int side, const ServiceLimits& limits) {
  if (side == 0) return absl::OkStatus();
  STAMINA_RETURN_IF_ERROR(
      CheckInRange(field, side, limits.min_sample_side, limits.max_sample_side));
  if (side % kSampleSideMultiple != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", side, " is not a multiple of ", kSampleSideMultiple));
  }
  return absl::OkStatus();
}

}  // namespace

int LargestAcceptedSide(int sampler_max_side, const ServiceLimits& limits) {
  const int side = std::min(sampler_max_side, limits.max_sample_side) / kSampleSideMultiple *
                   kSampleSideMultiple;
  return side >= limits.min_sample_side ? side : 0;
}

absl::StatusOr<rpc::SampleParams> SampleParamsFor(const v1::SampleRequest& request,
                                             const ServiceLimits& limits,
                                             const SampleDefaults& defaults,
                                             int64_t seed) {
  rpc::SampleParams p;
  if (request.prompt().empty()) {
    return absl::InvalidArgumentError("prompt: required");
  }
  for (const auto& [field, text] :
       {std::pair<absl::string_view, const std::string&>{"prompt", request.prompt()},
        {"negative_prompt", request.negative_prompt()}}) {
    STAMINA_RETURN_IF_ERROR(CheckText(text, limits.max_prompt_length, field));
  }
  p.prompt = request.prompt();
  p.negative_prompt = request.negative_prompt();
  p.count = request.image_count() == 0 ? 1 : request.image_count();
  STAMINA_RETURN_IF_ERROR(
      CheckInRange("image_count", p.count, 1, limits.max_images_per_sample));
  p.steps = request.steps() == 0 ? defaults.steps : request.steps();
  STAMINA_RETURN_IF_ERROR(
      CheckInRange("steps", p.steps, limits.min_sample_steps, limits.max_sample_steps));
  p.guidance_scale = request.guidance_scale() == 0 ? defaults.guidance_scale
                                                   : request.guidance_scale();
  STAMINA_RETURN_IF_ERROR(
      CheckInRange("guidance_scale", p.guidance_scale, 1, limits.max_guidance_scale));
  STAMINA_RETURN_IF_ERROR(CheckSide("width", request.width(), limits));
  STAMINA_RETURN_IF_ERROR(CheckSide("height", request.height(), limits));
  p.width = request.width();
  p.height = request.height();
  p.seed = request.seed() != 0 ? request.seed() : (seed == 0 ? 1 : seed);
  STAMINA_ASSIGN_OR_RETURN(p.sampler, rpc::SamplerName(request.sampler(), "sampler"));
  return p;
}

absl::StatusOr<rpc::ModelRecipe> RecipeOf(const ServiceContext& context,
                                          const std::string& tenant,
                                          const std::string& model_id,
                                          std::optional<int64_t> version) {
  STAMINA_ASSIGN_OR_RETURN(storage::ModelRecord model,
                           context.models->GetModel(tenant, model_id));
  rpc::ModelRecipe recipe{.tenant_id = tenant,
                     .model_id = model.id,
                     .version = version.has_value() ? version : model.head_version,
                     .base_model_id = model.base_model_id,
                     .base_model_digest = model.base_digest};
  if (!recipe.version.has_value()) return recipe;  // the base model
  absl::StatusOr<std::vector<storage::LineageStep>> chain =
      context.lineage->Lineage(tenant, model.id, recipe.version);
  if (!chain.ok()) {
    return ExplainErasedVersion(context, tenant, model.id, *recipe.version, chain.status());
  }
  for (const auto& step : *chain) {
    recipe.adapter_digests.push_back(step.version.adapter_digest);
    recipe.tokens.push_back(step.version.token);
  }
  return recipe;
}

absl::StatusOr<rpc::ModelRecipe> ResolveRecipe(const ServiceContext& context,
                                               const std::string& tenant,
                                               const std::string& model_name,
                                               const std::string& version_name) {
  STAMINA_ASSIGN_OR_RETURN(rpc::ModelName name, rpc::ParseModelName(model_name, "model"));
  std::optional<int64_t> version;
  if (!version_name.empty()) {
    STAMINA_ASSIGN_OR_RETURN(rpc::VersionName parsed,
                             rpc::ParseVersionName(version_name, "version"));
    if (parsed.model != name.model) {
      return absl::InvalidArgumentError(absl::StrCat(
          "version: ", version_name, " is not a version of ", model_name));
    }
    version = parsed.version;
  }
  return RecipeOf(context, tenant, name.model, version);
}

absl::StatusOr<rpc::ModelRecipe> ResolveRecipe(const ServiceContext& context,
                                               const std::string& tenant,
                                               const v1::SampleRequest& request) {
  return ResolveRecipe(context, tenant, request.model(), request.version());
}

absl::Status CheckConceptTokens(absl::string_view text, absl::string_view field,
                                const std::vector<std::string>& known,
                                absl::string_view version_name) {
  const std::string lower = absl::AsciiStrToLower(text);
  for (size_t open = lower.find('<'); open != std::string::npos;
       open = lower.find('<', open + 1)) {
    const size_t close = lower.find('>', open);
    if (close == std::string::npos) break;
    const std::string token = lower.substr(open, close - open + 1);
    if (!ValidateConceptToken(token).ok()) continue;  // not a token: plain text
    if (std::find(known.begin(), known.end(), token) != known.end()) continue;
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": unknown concept token ", token, "; ",
        version_name.empty() ? "the base model" : version_name, " knows ",
        known.empty() ? "no concept tokens" : absl::StrJoin(known, ", ")));
  }
  return absl::OkStatus();
}

}  // namespace stamina::server
