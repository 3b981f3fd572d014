// libFuzzer target for the validation of untrusted request protos (not run
// in CI; tagged manual). The first input byte picks the message, the rest is
// its wire bytes, parsed with ParseFromArray as gRPC would:
//   0 stamina.v1.SampleRequest: the front end's checks of Sample (before the
//     registry lookup): SampleParamsFor, the model/version names,
//     CheckConceptTokens on both prompts; then the hop to a replica:
//     BackendRequest -> ParamsFromProto must accept what the front end
//     accepted and give back the same parameters.
//   1 stamina.v1.TrainConceptRequest: the names and EffectiveTrainingSettings.
//   2 stamina.internal.v1.SampleRequest: what a sampler replica re-checks
//     (RecipeFromProto, ParamsFromProto).
// The documented contract: every refusal is INVALID_ARGUMENT (naming the
// field), never a crash; an accepted request is within ServiceLimits, names
// parse back to themselves, and applying the defaults twice changes nothing.
// Any violation traps, so libFuzzer records the input as a crash.
//
// Built and run by tools/fuzz.sh (clang++, no Bazel); seeds in
// testdata/fuzz/request_fuzz/ (made by testdata/fuzz/make_request_seeds.py).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/ids.h"
#include "google/protobuf/stubs/logging.h"
#include "rpc/resource_names.h"
#include "rpc/sample_messages.h"
#include "rpc/sample_router.h"
#include "server/sample_request.h"
#include "server/service_context.h"
#include "server/training_settings.h"
#include "stamina/internal/v1/sampler_backend.pb.h"
#include "stamina/v1/sampler_service.pb.h"
#include "stamina/v1/training_service.pb.h"
#include "storage/sha256.h"

namespace {

namespace rpc = ::stamina::rpc;
namespace server = ::stamina::server;
namespace v1 = ::stamina::v1;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// True when `status` is a refusal (which must be INVALID_ARGUMENT).
bool Refused(const absl::Status& status) {
  if (status.ok()) return false;
  Check(status.code() == absl::StatusCode::kInvalidArgument);
  return true;
}

bool InRange(double value, double low, double high) {
  return std::isfinite(value) && value >= low && value <= high;
}

bool IsSampler(const std::string& name) {
  return name == "ddim" || name == "pndm" || name == "euler";
}

// A name that parses formats back to itself; a refusal is INVALID_ARGUMENT.
void CheckModelName(const std::string& name) {
  const auto parsed = rpc::ParseModelName(name, "model");
  if (Refused(parsed.status())) return;
  Check(stamina::ValidateResourceId(parsed->model).ok());
  Check(rpc::FormatModelName(parsed->model) == name);
}

void CheckVersionName(const std::string& name) {
  const auto parsed = rpc::ParseVersionName(name, "version");
  if (Refused(parsed.status())) return;
  Check(parsed->version > 0);
  Check(rpc::FormatVersionName(parsed->model, parsed->version) == name);
}

void CheckConceptName(const std::string& name) {
  const auto parsed = rpc::ParseConceptName(name, "concept");
  if (Refused(parsed.status())) return;
  Check(rpc::FormatConceptName(parsed->model, parsed->concept_id) == name);
}

void FuzzSampleRequest(const v1::SampleRequest& request) {
  const server::ServiceLimits limits;
  const server::SampleDefaults defaults;
  CheckModelName(request.model());
  CheckVersionName(request.version());
  const std::vector<std::string> known = {"<anna>", "<tower>"};
  for (const std::string* text : {&request.prompt(), &request.negative_prompt()}) {
    Refused(server::CheckConceptTokens(*text, "prompt", known,
                                       "models/m/versions/1"));
    Refused(server::CheckConceptTokens(*text, "prompt", {}, ""));
  }

  const absl::StatusOr<rpc::SampleParams> params =
      server::SampleParamsFor(request, limits, defaults, /*seed=*/42);
  if (Refused(params.status())) return;
  Check(!params->prompt.empty());
  Check(static_cast<int>(params->prompt.size()) <= limits.max_prompt_length);
  Check(static_cast<int>(params->negative_prompt.size()) <=
        limits.max_prompt_length);
  Check(InRange(params->count, 1, limits.max_images_per_sample));
  Check(InRange(params->steps, limits.min_sample_steps, limits.max_sample_steps));
  Check(InRange(params->guidance_scale, 1, limits.max_guidance_scale));
  for (const int side : {params->width, params->height}) {
    Check(side == 0 ||
          (InRange(side, limits.min_sample_side, limits.max_sample_side) &&
           side % 8 == 0));
  }
  Check(params->seed != 0);
  Check(IsSampler(params->sampler));

  // The replica must accept what the front end accepted, unchanged.
  const rpc::ModelRecipe recipe{.tenant_id = "t",
                                .model_id = "m",
                                .version = 1,
                                .base_model_id = "stamina-tiny-v1"};
  const stamina::internal::v1::SampleRequest hop =
      rpc::BackendRequest(recipe, *params);
  const absl::StatusOr<rpc::SampleParams> there =
      rpc::ParamsFromProto(hop.request(), "request");
  Check(there.ok());
  Check(there->prompt == params->prompt &&
        there->negative_prompt == params->negative_prompt &&
        there->count == params->count && there->steps == params->steps &&
        there->guidance_scale == params->guidance_scale &&
        there->seed == params->seed && there->width == params->width &&
        there->height == params->height && there->sampler == params->sampler);
}

void FuzzTrainConceptRequest(const v1::TrainConceptRequest& request) {
  const server::ServiceLimits limits;
  const server::TrainingDefaults defaults;
  CheckModelName(request.parent());
  CheckConceptName(request.concept());

  const absl::StatusOr<v1::TrainingSettings> settings =
      server::EffectiveTrainingSettings(request.settings(), limits, defaults,
                                        /*seed=*/42);
  if (Refused(settings.status())) return;
  Check(settings->method() != v1::TRAINING_METHOD_UNSPECIFIED);
  Check(InRange(settings->steps(), limits.min_training_steps,
                limits.max_training_steps));
  Check(InRange(settings->batch_size(), 1, 64));
  Check(InRange(settings->lora_rank(), 1, 256));
  Check(InRange(settings->learning_rate(), 1e-8, 1.0));
  Check(settings->seed() != 0);
  Check(settings->target_modules_size() > 0);
  Check(settings->context_preservation() !=
        v1::CONTEXT_PRESERVATION_UNSPECIFIED);
  Check(settings->method() == v1::TRAINING_METHOD_STAMINA ||
        !settings->has_stamina());
  Check(settings->method() == v1::TRAINING_METHOD_CLORA ||
        !settings->has_clora());

  // The effective settings are a fixed point: a job's recorded settings,
  // sent back (RetryJob, a client copying them), mean the same job.
  const absl::StatusOr<v1::TrainingSettings> again =
      server::EffectiveTrainingSettings(*settings, limits, defaults,
                                        /*seed=*/7);
  Check(again.ok());
  Check(again->SerializeAsString() == settings->SerializeAsString());
}

void FuzzBackendSampleRequest(
    const stamina::internal::v1::SampleRequest& request) {
  const absl::StatusOr<rpc::ModelRecipe> recipe =
      rpc::RecipeFromProto(request.recipe(), request.tenant(), "recipe");
  if (!Refused(recipe.status())) {
    for (const std::string& digest : recipe->adapter_digests) {
      Check(stamina::storage::IsSha256Hex(digest));
    }
    Check(recipe->tokens.empty() ||
          recipe->tokens.size() == recipe->adapter_digests.size());
    Check(!recipe->version.has_value() || *recipe->version > 0);
    // What the front end would send for this recipe reads back the same.
    const auto back = rpc::RecipeFromProto(rpc::RecipeToProto(*recipe),
                                           recipe->tenant_id, "recipe");
    Check(back.ok());
    Check(back->model_id == recipe->model_id &&
          back->version == recipe->version &&
          back->base_model_id == recipe->base_model_id &&
          back->base_model_digest == recipe->base_model_digest &&
          back->adapter_digests == recipe->adapter_digests &&
          back->tokens == recipe->tokens);
  }
  const absl::StatusOr<rpc::SampleParams> params =
      rpc::ParamsFromProto(request.request(), "request");
  if (Refused(params.status())) return;
  Check(params->count > 0 && params->steps > 0);
  Check(params->width >= 0 && params->height >= 0);
  Check(!(params->guidance_scale < 0));
  Check(IsSampler(params->sampler));
}

}  // namespace

// Parsing fuzz bytes logs an ERROR for every string field that is not UTF-8
// (and still fails the parse, which is what is checked); the lines would fill
// the run log and slow the fuzzer. FATAL messages still abort.
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t* wire = data + 1;
  const int wire_size = static_cast<int>(size - 1);
  switch (data[0] % 3) {
    case 0: {
      v1::SampleRequest request;
      if (request.ParseFromArray(wire, wire_size)) FuzzSampleRequest(request);
      break;
    }
    case 1: {
      v1::TrainConceptRequest request;
      if (request.ParseFromArray(wire, wire_size)) {
        FuzzTrainConceptRequest(request);
      }
      break;
    }
    default: {
      stamina::internal::v1::SampleRequest request;
      if (request.ParseFromArray(wire, wire_size)) {
        FuzzBackendSampleRequest(request);
      }
      break;
    }
  }
  return 0;
}
