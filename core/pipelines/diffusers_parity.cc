#include "core/pipelines/diffusers_parity.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "core/io/file_bytes.h"
#include "core/io/safetensors.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "core/schedulers/ddim_scheduler.h"
#include "core/torch_status.h"
#include "nlohmann/json.hpp"

namespace stamina::core {
namespace {

using Tensors = std::map<std::string, torch::Tensor>;

struct Reference {
  std::vector<std::string> prompts;
  std::vector<std::string> names;  // reference_tensors, in file order
  Tensors tensors;
};

absl::StatusOr<Reference> ReadReference(const std::string& safetensors_path) {
  const size_t slash = safetensors_path.rfind('/');
  const std::string json_path =
      (slash == std::string::npos ? std::string() : safetensors_path.substr(0, slash + 1)) +
      "reference.json";
  STAMINA_ASSIGN_OR_RETURN(std::string text, ReadFileBytes(json_path));
  const nlohmann::ordered_json json = nlohmann::ordered_json::parse(text, nullptr, false);
  if (!json.is_object() || !json.contains("prompts") || !json["prompts"].is_array() ||
      !json.contains("reference_tensors") || !json["reference_tensors"].is_object()) {
    return absl::DataLossError(
        absl::StrCat(json_path, ": needs \"prompts\" and \"reference_tensors\""));
  }
  Reference reference;
  for (const auto& prompt : json["prompts"]) {
    if (!prompt.is_string()) return absl::DataLossError(json_path + ": a prompt is not a string");
    reference.prompts.push_back(prompt.get<std::string>());
  }
  for (const auto& item : json["reference_tensors"].items()) reference.names.push_back(item.key());
  STAMINA_ASSIGN_OR_RETURN(Safetensors file, ReadSafetensors(safetensors_path));
  reference.tensors = std::move(file.tensors);
  return reference;
}

absl::StatusOr<torch::Tensor> Input(const Reference& reference, const std::string& name) {
  const auto it = reference.tensors.find(name);
  if (it == reference.tensors.end()) {
    return absl::InvalidArgumentError(absl::StrCat("reference: no input tensor ", name));
  }
  return it->second;
}

absl::StatusOr<double> MaxAbsError(const std::string& name, const torch::Tensor& ours,
                                   const torch::Tensor& theirs) {
  if (ours.sizes() != theirs.sizes()) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": we computed shape ", c10::str(ours.sizes()), ", the reference has ",
        c10::str(theirs.sizes())));
  }
  return RunTorch([&] {
    return (ours.to(torch::kFloat64) - theirs.to(torch::kFloat64)).abs().max().item<double>();
  });
}

// A number written with '_' for the decimal point ("7_5" → 7.5).
bool ParseScaled(absl::string_view text, double* value) {
  return absl::SimpleAtod(absl::StrReplaceAll(text, {{"_", "."}}), value);
}

class Recomputer {
 public:
  Recomputer(DiffusionModel& model, const Reference& reference)
      : model_(model), reference_(reference) {}

  // Our value of the reference tensor `name`.
  absl::StatusOr<torch::Tensor> Compute(const std::string& name) {
    torch::NoGradGuard no_grad;
    int64_t number = 0;
    if (name == "token_ids") {
      return TokenizeBatch(*model_.tokenizer, reference_.prompts);
    }
    if (name == "text_encoder.last_hidden_state") {
      STAMINA_ASSIGN_OR_RETURN(torch::Tensor ids, Input(reference_, "token_ids"));
      return RunTorch([&] { return model_.text_encoder->forward(ids.to(torch::kInt64)); });
    }
    if (absl::string_view t = name; absl::ConsumePrefix(&t, "unet.out.t") &&
                                    absl::SimpleAtoi(t, &number)) {
      STAMINA_ASSIGN_OR_RETURN(torch::Tensor sample, Input(reference_, "unet.sample"));
      STAMINA_ASSIGN_OR_RETURN(torch::Tensor context, GuidanceContext());
      return RunTorch([&] {
        torch::Tensor timesteps = torch::full({sample.size(0)}, number, torch::kInt64);
        return model_.unet->forward(sample, timesteps, context);
      });
    }
    if (name == "vae.encode.mean" || name == "vae.encode.logvar") {
      STAMINA_ASSIGN_OR_RETURN(torch::Tensor image, Input(reference_, "vae.image"));
      return RunTorch([&] {
        DiagonalGaussianDistribution posterior = model_.vae->Encode(image);
        return name == "vae.encode.mean" ? posterior.mean() : posterior.logvar();
      });
    }
    if (name == "vae.decode.out") {
      STAMINA_ASSIGN_OR_RETURN(torch::Tensor latents, Input(reference_, "vae.decode.in"));
      return RunTorch([&] { return model_.vae->Decode(latents); });
    }
    if (absl::string_view n = name; absl::ConsumePrefix(&n, "ddim.timesteps.n") &&
                                    absl::SimpleAtoi(n, &number)) {
      STAMINA_ASSIGN_OR_RETURN(DDIMScheduler ddim, Scheduler(number));
      return RunTorch([&] { return torch::tensor(ddim.timesteps(), torch::kInt64); });
    }
    if (name == "ddim.step.prev_sample") {
      STAMINA_ASSIGN_OR_RETURN(DDIMScheduler ddim, Scheduler(10));
      STAMINA_ASSIGN_OR_RETURN(torch::Tensor sample, Input(reference_, "unet.sample"));
      STAMINA_ASSIGN_OR_RETURN(torch::Tensor output, Input(reference_, "unet.out.t999"));
      STAMINA_ASSIGN_OR_RETURN(
          DDIMStepOutput step,
          ddim.Step(output.slice(0, 0, 1), ddim.timesteps()[0], sample.slice(0, 0, 1)));
      return step.prev_sample;
    }
    if (absl::string_view p = name;
        absl::ConsumePrefix(&p, "pipeline.ddim") && absl::ConsumeSuffix(&p, ".image")) {
      const std::vector<std::string> parts = absl::StrSplit(p, ".cfg");
      TextToImageRequest request;
      double guidance = 0;
      if (parts.size() == 2 && absl::SimpleAtoi(parts[0], &request.steps) &&
          ParseScaled(parts[1], &guidance) && !reference_.prompts.empty()) {
        request.prompt = reference_.prompts[0];
        request.guidance_scale = static_cast<float>(guidance);
        STAMINA_ASSIGN_OR_RETURN(torch::Tensor sample, Input(reference_, "unet.sample"));
        return GenerateFromLatents(model_, request, sample.slice(0, 0, 1));
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat("reference tensor ", name, ": no known way to recompute it"));
  }

 private:
  // [hidden states of "", of prompt 0], from the reference's own states.
  absl::StatusOr<torch::Tensor> GuidanceContext() {
    STAMINA_ASSIGN_OR_RETURN(torch::Tensor states,
                             Input(reference_, "text_encoder.last_hidden_state"));
    for (size_t i = 0; i < reference_.prompts.size(); ++i) {
      if (reference_.prompts[i].empty()) {
        return RunTorch([&] {
          return torch::stack({states[static_cast<int64_t>(i)], states[0]});
        });
      }
    }
    return absl::InvalidArgumentError("reference: no \"\" prompt for the unconditional row");
  }

  absl::StatusOr<DDIMScheduler> Scheduler(int64_t steps) {
    STAMINA_ASSIGN_OR_RETURN(DDIMScheduler ddim,
                             DDIMScheduler::Create(model_.config.sampling_scheduler));
    STAMINA_RETURN_IF_ERROR(ddim.SetTimesteps(steps));
    return ddim;
  }

  DiffusionModel& model_;
  const Reference& reference_;
};

bool IsInput(const std::string& name) {
  return name == "unet.sample" || name == "vae.image" || name == "vae.decode.in";
}

}  // namespace

absl::StatusOr<std::vector<ParityLine>> CheckDiffusersParity(
    DiffusionModel& model, const std::string& reference_safetensors,
    const ParityTolerances& tolerances) {
  STAMINA_ASSIGN_OR_RETURN(Reference reference, ReadReference(reference_safetensors));
  STAMINA_RETURN_IF_ERROR(RunTorch([&] {
    model.text_encoder->eval();
    model.unet->eval();
    model.vae->eval();
  }));
  Recomputer recomputer(model, reference);
  std::vector<ParityLine> lines;
  for (const std::string& name : reference.names) {
    if (IsInput(name)) continue;
    STAMINA_ASSIGN_OR_RETURN(torch::Tensor theirs, Input(reference, name));
    STAMINA_ASSIGN_OR_RETURN(torch::Tensor ours, recomputer.Compute(name));
    STAMINA_ASSIGN_OR_RETURN(double error, MaxAbsError(name, ours, theirs));
    lines.push_back({.name = name,
                     .max_abs_error = error,
                     .tolerance = absl::StartsWith(name, "pipeline.")
                                      ? tolerances.pipeline_image
                                      : tolerances.tensors});
  }
  return lines;
}

}  // namespace stamina::core
