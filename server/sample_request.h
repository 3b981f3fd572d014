// File: server/sample_request.h
//
// The gRPC-free half of the Sample RPC: validation of a stamina.v1
// SampleRequest against the deployment's limits (every error names its
// field), the defaults that fill its zero values, the resolution of the
// requested version to a ModelRecipe through the registry, and the check
// that every concept token the prompt names ("<anna>") is folded into that
// version.
// Thread-safe: functions of their arguments (and the thread-safe stores).
#ifndef STAMINA_SERVER_SAMPLE_REQUEST_H_
#define STAMINA_SERVER_SAMPLE_REQUEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rpc/sample_router.h"
#include "server/service_context.h"
#include "stamina/v1/sampler_service.pb.h"

namespace stamina::server {

// The base model's sampling defaults (Capabilities.base_models).
struct SampleDefaults {
  int steps = 25;
  float guidance_scale = 7.5f;
};

// Sample widths and heights are multiples of this (Stable Diffusion's VAE
// scale factor, which every base model's factor divides).
inline constexpr int kSampleSideMultiple = 8;

// The largest side a Sample may ask of a base model whose sampler allows
// `sampler_max_side`: within the limits and a multiple of
// kSampleSideMultiple (Capabilities.base_models[].max_sample_side).
int LargestAcceptedSide(int sampler_max_side, const ServiceLimits& limits);

// The validated parameters; `seed` is used when the request leaves it at 0.
absl::StatusOr<rpc::SampleParams> SampleParamsFor(const v1::SampleRequest& request,
                                             const ServiceLimits& limits,
                                             const SampleDefaults& defaults,
                                             int64_t seed);

// The recipe of `version` of the tenant's model (its head when nullopt; the
// base model when it has none). NOT_FOUND for a missing model or version.
absl::StatusOr<rpc::ModelRecipe> RecipeOf(const ServiceContext& context,
                                          const std::string& tenant,
                                          const std::string& model_id,
                                          std::optional<int64_t> version);

// The recipe of request.version (or of the model's head; the base model when
// it has no version). NOT_FOUND for another tenant's or a missing model or
// version; INVALID_ARGUMENT for malformed names.
absl::StatusOr<rpc::ModelRecipe> ResolveRecipe(const ServiceContext& context,
                                          const std::string& tenant,
                                          const v1::SampleRequest& request);

// The same for a `models/{model}` name and an optional
// `models/{model}/versions/{version}` name (fields "model" and "version").
absl::StatusOr<rpc::ModelRecipe> ResolveRecipe(const ServiceContext& context,
                                               const std::string& tenant,
                                               const std::string& model_name,
                                               const std::string& version_name);

// INVALID_ARGUMENT naming `field` when `text` mentions a concept token (in
// the token grammar, any case) that is not in `known`.
absl::Status CheckConceptTokens(absl::string_view text, absl::string_view field,
                                const std::vector<std::string>& known,
                                absl::string_view version_name);

}  // namespace stamina::server

#endif  // STAMINA_SERVER_SAMPLE_REQUEST_H_
