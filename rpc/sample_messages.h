// File: rpc/sample_messages.h
//
// The Sample call's messages on both of its hops: the public stream
// (stamina.v1.SampleResponse, written by the front end) and the internal one
// to a sampler replica (stamina.internal.v1.SamplerBackend: the recipe and the
// validated parameters out, the same v1 responses back), converted to and
// from the gRPC-free SampleRouter types. The replica re-checks what it is
// sent; every error names the field of the internal request.
// Thread-safe: pure functions.
#ifndef STAMINA_RPC_SAMPLE_MESSAGES_H_
#define STAMINA_RPC_SAMPLE_MESSAGES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rpc/sample_router.h"
#include "stamina/internal/v1/sampler_backend.pb.h"
#include "stamina/v1/sampler_service.pb.h"

namespace stamina::rpc {

// One progress message / one image of `version` (a version name, or empty
// for the base model).
v1::SampleResponse ProgressMessage(SamplePhase phase, int step, int total_steps);
v1::SampleResponse ImageMessage(const SampledImage& image, const std::string& version);

// Hands one response to `sink`: progress, or an image (whose status it
// returns). INVALID_ARGUMENT for a message with neither.
absl::Status RelayToSink(const v1::SampleResponse& response, SampleSink& sink);

// What the front end sends a replica.
internal::v1::ModelRecipe RecipeToProto(const ModelRecipe& recipe);
// The sampler's name ("ddim", "pndm", "euler") for a stamina.v1.Sampler
// value (UNSPECIFIED is DDIM); INVALID_ARGUMENT naming `field` for others.
absl::StatusOr<std::string> SamplerName(int sampler, absl::string_view field);
// The stamina.v1.Sampler of a sampler's name.
v1::Sampler SamplerOf(absl::string_view name);

internal::v1::SampleRequest BackendRequest(const ModelRecipe& recipe,
                                           const SampleParams& params);

// What a replica makes of it. `field` prefixes the error messages
// ("recipe", "request").
absl::StatusOr<ModelRecipe> RecipeFromProto(const internal::v1::ModelRecipe& recipe,
                                            const std::string& tenant,
                                            absl::string_view field);
absl::StatusOr<SampleParams> ParamsFromProto(const v1::SampleRequest& request,
                                             absl::string_view field);

// A device report as the API's message (processes left unset), and back.
void ToProto(const ComputeDeviceReport& device, v1::ComputeDevice* out);
ComputeDeviceReport FromProto(const v1::ComputeDevice& device);

// Reports of the same device (all fields equal) counted once each, in order.
std::vector<v1::ComputeDevice> CountDevices(const std::vector<ComputeDeviceReport>& reports);

}  // namespace stamina::rpc

#endif  // STAMINA_RPC_SAMPLE_MESSAGES_H_
