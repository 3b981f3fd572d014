// SamplerServiceImpl::CompareVersions: the same prompts and seeds sampled from
// two versions through the SampleRouter, with each prompt's pixel drift
// (server/version_comparison.h).
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rpc/grpc_status.h"
#include "rpc/resource_names.h"
#include "rpc/sample_messages.h"
#include "server/sample_request.h"
#include "server/sampler_service_impl.h"
#include "server/version_comparison.h"

namespace stamina::server {
namespace {

std::string NameOf(const rpc::ModelRecipe& recipe) {
  return recipe.version.has_value() ? rpc::FormatVersionName(recipe.model_id, *recipe.version) : "";
}

}  // namespace

grpc::Status SamplerServiceImpl::CompareVersions(grpc::ServerContext* call,
                                                 const v1::CompareVersionsRequest* request,
                                                 v1::CompareVersionsResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    if (router_ == nullptr) return absl::UnimplementedError("this deployment has no sampler");
    if (request->version_b().empty()) {
      return absl::InvalidArgumentError("version_b: required, models/{model}/versions/{version}");
    }
    if (request->prompts_size() > kMaxComparisonPrompts) {
      return absl::InvalidArgumentError(absl::StrCat("prompts: ", request->prompts_size(),
                                                     " prompts; at most ", kMaxComparisonPrompts));
    }
    if (request->image_count() < 0 || request->image_count() > kMaxComparisonImages) {
      return absl::InvalidArgumentError(absl::StrCat("image_count: ", request->image_count(),
                                                     " is not within [0, ", kMaxComparisonImages,
                                                     "]"));
    }
    STAMINA_ASSIGN_OR_RETURN(CallLimits::Slot slot,
                             ctx_->calls->Acquire(LongCall::kSample, tenant));
    STAMINA_ASSIGN_OR_RETURN(rpc::ModelRecipe a,
                             ResolveRecipe(*ctx_, tenant, request->model(), request->version_a()));
    // Version B's field name in errors is version_b.
    absl::StatusOr<rpc::ModelRecipe> b =
        ResolveRecipe(*ctx_, tenant, request->model(), request->version_b());
    if (!b.ok()) {
      return absl::Status(b.status().code(), absl::StrCat("version_b: ", b.status().message()));
    }
    std::vector<ComparisonPrompt> prompts;
    for (const std::string& prompt : request->prompts()) prompts.push_back({.prompt = prompt});
    if (prompts.empty()) prompts = DefaultComparisonPrompts(a.tokens, b->tokens);
    if (prompts.empty()) prompts.push_back({.prompt = "a photo"});
    // A token either version knows may be named: where one lacks it, it is
    // plain text there, which is the point of the comparison.
    std::vector<std::string> known = a.tokens;
    known.insert(known.end(), b->tokens.begin(), b->tokens.end());
    if (const auto base = router_->SamplingOf(a.base_model_id); base.has_value()) {
      known.insert(known.end(), base->tokens.begin(), base->tokens.end());
    }
    v1::SampleRequest sample;
    sample.set_image_count(request->image_count() == 0 ? kDefaultComparisonImages
                                                       : request->image_count());
    sample.set_steps(request->steps());
    sample.set_seed(request->seed() == 0 ? 1 : request->seed());
    response->set_version_a(NameOf(a));
    response->set_version_b(NameOf(*b));
    for (size_t i = 0; i < prompts.size(); ++i) {
      const std::string field = absl::StrCat("prompts[", i, "]");
      STAMINA_RETURN_IF_ERROR(CheckConceptTokens(prompts[i].prompt, field, known, ""));
      sample.set_prompt(prompts[i].prompt);
      absl::StatusOr<rpc::SampleParams> params =
          SampleParamsFor(sample, ctx_->limits, sample_defaults_, /*seed=*/1);
      if (!params.ok()) {
        return absl::Status(params.status().code(),
                            absl::StrCat(field, ": ", params.status().message()));
      }
      v1::VersionComparison* comparison = response->add_comparisons();
      comparison->set_prompt(prompts[i].prompt);
      comparison->set_token(prompts[i].token);
      STAMINA_ASSIGN_OR_RETURN(SampledPair pair, SamplePair(*router_, a, *b, *params, [call] {
                                 return call->IsCancelled();
                               }));
      for (const rpc::SampledImage& image : pair.a) {
        *comparison->add_images_a() = rpc::ImageMessage(image, NameOf(a)).image();
      }
      for (const rpc::SampledImage& image : pair.b) {
        *comparison->add_images_b() = rpc::ImageMessage(image, NameOf(*b)).image();
      }
      comparison->set_drift(pair.drift);
    }
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

}  // namespace stamina::server
