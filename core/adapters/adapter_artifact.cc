#include "core/adapters/adapter_artifact.h"

#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/io/safetensors.h"
#include "core/torch_status.h"
#include "nlohmann/json.hpp"

namespace stamina::core {
namespace {

constexpr char kTokenRow[] = "token_row";
constexpr char kDriftReference[] = "drift_reference";

torch::Tensor DriftImagesTensor(const std::vector<Image>& images) {
  const int64_t h = images[0].height, w = images[0].width;
  torch::Tensor tensor =
      torch::empty({static_cast<int64_t>(images.size()), h, w, 3}, torch::kUInt8);
  for (size_t i = 0; i < images.size(); ++i) {
    std::memcpy(tensor[i].data_ptr<uint8_t>(), images[i].pixels.data(), h * w * 3);
  }
  return tensor;
}

absl::Status CheckDriftReference(const DriftReference& reference) {
  if (reference.prompts.empty() || reference.images_per_prompt <= 0 ||
      reference.images.size() != reference.prompts.size() * reference.images_per_prompt) {
    return absl::InvalidArgumentError(absl::StrCat("drift reference: ", reference.images.size(),
                                                   " images for ", reference.prompts.size(),
                                                   " prompts x ", reference.images_per_prompt));
  }
  for (const Image& image : reference.images) {
    if (image.width != reference.images[0].width || image.height != reference.images[0].height ||
        image.width <= 0 || image.height <= 0 ||
        image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3) {
      return absl::InvalidArgumentError("drift reference: images differ in size");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<DriftReference> ParseDriftReference(const std::string& json_text,
                                                   const torch::Tensor& images) {
  const nlohmann::json json = nlohmann::json::parse(json_text, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("prompts") ||
      !json["prompts"].is_array()) {
    return absl::DataLossError("adapter artifact: drift_reference metadata does not parse");
  }
  DriftReference reference;
  for (const nlohmann::json& prompt : json["prompts"]) {
    if (!prompt.is_string()) return absl::DataLossError("adapter artifact: drift prompt");
    reference.prompts.push_back(prompt.get<std::string>());
  }
  if (!json.value("seed", nlohmann::json()).is_number_integer() ||
      !json.value("images_per_prompt", nlohmann::json()).is_number_integer() ||
      !json.value("steps", nlohmann::json()).is_number_integer() ||
      !json.value("guidance", nlohmann::json()).is_number()) {
    return absl::DataLossError("adapter artifact: drift_reference metadata incomplete");
  }
  reference.seed = json["seed"].get<int64_t>();
  reference.images_per_prompt = json["images_per_prompt"].get<int>();
  reference.steps = json["steps"].get<int>();
  reference.guidance = json["guidance"].get<float>();
  if (!images.defined() || images.dim() != 4 || images.size(3) != 3 ||
      images.scalar_type() != torch::kUInt8) {
    return absl::DataLossError("adapter artifact: drift_reference is not uint8 [n, h, w, 3]");
  }
  const torch::Tensor contiguous = images.contiguous();
  for (int64_t i = 0; i < contiguous.size(0); ++i) {
    Image image(static_cast<int>(contiguous.size(2)), static_cast<int>(contiguous.size(1)));
    std::memcpy(image.pixels.data(), contiguous[i].data_ptr<uint8_t>(), image.pixels.size());
    reference.images.push_back(std::move(image));
  }
  if (absl::Status valid = CheckDriftReference(reference); !valid.ok()) {
    return absl::DataLossError(absl::StrCat("adapter artifact: ", valid.message()));
  }
  return reference;
}

// When a factor is stored: always, with a mask, or when present (the
// context basis exists only on the layers that read text).
enum class Presence { kAlways, kMasked, kOptional };

struct FactorField {
  const char* suffix;
  torch::Tensor LayerFactors::*member;
  Presence presence;
};

constexpr FactorField kFactorFields[] = {
    {".lora_A", &LayerFactors::lora_A, Presence::kAlways},
    {".lora_B", &LayerFactors::lora_B, Presence::kAlways},
    {".mask_U", &LayerFactors::mask_U, Presence::kMasked},
    {".mask_V", &LayerFactors::mask_V, Presence::kMasked},
    {".mask_b", &LayerFactors::mask_b, Presence::kMasked},
    {".context_basis", &LayerFactors::context_basis, Presence::kOptional},
};

absl::Status CheckShape(const std::string& name, const torch::Tensor& tensor,
                        std::vector<int64_t> shape) {
  if (!tensor.defined() || tensor.sizes().vec() != shape) {
    return absl::DataLossError(
        absl::StrCat("adapter artifact: ", name, " has the wrong shape for this model"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> SerializeAdapterArtifact(const AdapterArtifact& artifact) {
  std::map<std::string, torch::Tensor> tensors;
  tensors[kTokenRow] = artifact.token_row.to(torch::kFloat32);
  const bool masked = UsesMask(artifact.config);
  for (const auto& [layer, factors] : artifact.layers) {
    for (const FactorField& field : kFactorFields) {
      if (field.presence == Presence::kMasked && !masked) continue;
      const torch::Tensor& tensor = factors.*field.member;
      if (field.presence == Presence::kOptional && !tensor.defined()) continue;
      tensors[layer + field.suffix] = tensor.to(torch::kFloat32);
    }
  }
  std::map<std::string, std::string> metadata = artifact.metadata;
  if (artifact.drift_reference.has_value()) {
    const DriftReference& reference = *artifact.drift_reference;
    STAMINA_RETURN_IF_ERROR(CheckDriftReference(reference));
    tensors[kDriftReference] = DriftImagesTensor(reference.images);
    metadata[kDriftReference] = nlohmann::json{
        {"prompts", reference.prompts},
        {"seed", reference.seed},
        {"images_per_prompt", reference.images_per_prompt},
        {"steps", reference.steps},
        {"guidance",
         reference.guidance}}.dump();
  }
  metadata["format"] = kAdapterArtifactFormat;
  metadata["config"] = AdapterConfigToJson(artifact.config);
  metadata["token"] = artifact.token;
  metadata["token_id"] = absl::StrCat(artifact.token_id);
  return SerializeSafetensors(tensors, metadata);
}

absl::StatusOr<AdapterArtifact> ParseAdapterArtifact(absl::string_view bytes) {
  STAMINA_ASSIGN_OR_RETURN(Safetensors file, ParseSafetensors(bytes));
  std::map<std::string, std::string> metadata = file.header.metadata;
  if (metadata["format"] != kAdapterArtifactFormat) {
    return absl::DataLossError(absl::StrCat("adapter artifact: format is \"", metadata["format"],
                                            "\", want \"", kAdapterArtifactFormat, "\""));
  }
  AdapterArtifact artifact;
  absl::StatusOr<AdapterConfig> config = AdapterConfigFromJson(metadata["config"]);
  if (!config.ok()) {
    return absl::DataLossError(absl::StrCat("adapter artifact: ", config.status().message()));
  }
  artifact.config = *config;
  artifact.token = metadata["token"];
  if (!absl::SimpleAtoi(metadata["token_id"], &artifact.token_id) || artifact.token_id < 0) {
    return absl::DataLossError("adapter artifact: bad token_id");
  }
  auto drift_images = file.tensors.find(kDriftReference);
  if (metadata.count(kDriftReference) != 0 || drift_images != file.tensors.end()) {
    if (drift_images == file.tensors.end()) {
      return absl::DataLossError("adapter artifact: drift_reference metadata without images");
    }
    STAMINA_ASSIGN_OR_RETURN(artifact.drift_reference,
                             ParseDriftReference(metadata[kDriftReference], drift_images->second));
    file.tensors.erase(drift_images);
  }
  for (const char* key : {"format", "config", "token", "token_id", kDriftReference}) {
    metadata.erase(key);
  }
  artifact.metadata = std::move(metadata);
  auto row = file.tensors.find(kTokenRow);
  if (row == file.tensors.end() || row->second.dim() != 1) {
    return absl::DataLossError("adapter artifact: no token_row [d]");
  }
  artifact.token_row = row->second.to(torch::kFloat32);
  file.tensors.erase(row);
  const bool masked = UsesMask(artifact.config);
  for (auto& [name, tensor] : file.tensors) {
    bool known = false;
    for (const FactorField& field : kFactorFields) {
      const std::string suffix = field.suffix;
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
          (masked || field.presence != Presence::kMasked)) {
        artifact.layers[name.substr(0, name.size() - suffix.size())].*field.member =
            tensor.to(torch::kFloat32);
        known = true;
      }
    }
    if (!known) {
      return absl::DataLossError(absl::StrCat("adapter artifact: unexpected tensor ", name));
    }
  }
  return artifact;
}

absl::StatusOr<int64_t> EnsureConceptToken(DiffusionModel& model, const std::string& token) {
  absl::StatusOr<int32_t> id = model.tokenizer->TokenId(token);
  if (absl::IsNotFound(id.status())) {
    const int64_t rows = model.config.text_encoder.vocab_size;
    if (model.tokenizer->vocab_size() >= rows) {
      return absl::FailedPreconditionError(
          absl::StrCat("the text encoder's ", rows,
                       " embedding rows are all taken: no room for concept token ", token));
    }
    id = model.tokenizer->AddToken(token);
  }
  if (!id.ok()) return id.status();
  return static_cast<int64_t>(*id);
}

absl::Status FoldAdapterArtifact(const AdapterArtifact& artifact, DiffusionModel& model,
                                 ContinualState& state) {
  STAMINA_ASSIGN_OR_RETURN(std::vector<AdaptedLayer> layers,
                           FindAdaptedLayers(model.unet, artifact.config.targets));
  const bool masked = UsesMask(artifact.config);
  for (const AdaptedLayer& layer : layers) {
    if (*layer.slot) {
      return absl::FailedPreconditionError(
          absl::StrCat("an adapter is still attached to ", layer.name));
    }
    const auto it = artifact.layers.find(layer.name);
    if (it == artifact.layers.end()) {
      return absl::DataLossError(absl::StrCat("adapter artifact: no factors for ", layer.name));
    }
    const LayerFactors& f = it->second;
    const int64_t out = layer.linear->weight.size(0);
    const int64_t in = layer.linear->weight.size(1);
    const int64_t rank = RankOf(artifact.config, layer.name);
    STAMINA_RETURN_IF_ERROR(CheckShape(layer.name + ".lora_A", f.lora_A, {rank, in}));
    STAMINA_RETURN_IF_ERROR(CheckShape(layer.name + ".lora_B", f.lora_B, {out, rank}));
    if (masked) {
      const int64_t hidden = artifact.config.mask_rank;
      STAMINA_RETURN_IF_ERROR(CheckShape(layer.name + ".mask_U", f.mask_U, {out, hidden}));
      STAMINA_RETURN_IF_ERROR(CheckShape(layer.name + ".mask_V", f.mask_V, {hidden, in}));
      STAMINA_RETURN_IF_ERROR(CheckShape(layer.name + ".mask_b", f.mask_b, {out}));
    }
    if (f.context_basis.defined() &&
        (f.context_basis.dim() != 2 || f.context_basis.size(0) != in)) {
      return absl::DataLossError(
          absl::StrCat("adapter artifact: ", layer.name, ".context_basis has the wrong shape"));
    }
  }
  if (layers.size() != artifact.layers.size()) {
    return absl::DataLossError("adapter artifact: factors for layers the targets do not name");
  }
  torch::nn::Embedding& table = model.text_encoder->text_model->embeddings->token_embedding;
  STAMINA_RETURN_IF_ERROR(CheckShape("token_row", artifact.token_row, {table->weight.size(1)}));
  STAMINA_ASSIGN_OR_RETURN(const int64_t id, EnsureConceptToken(model, artifact.token));
  if (id != artifact.token_id) {
    return absl::FailedPreconditionError(
        absl::StrCat("concept token ", artifact.token, " has id ", id, " in this model but ",
                     artifact.token_id, " in the artifact: replay artifacts in lineage order"));
  }
  return RunTorchVoid([&] {
    torch::NoGradGuard no_grad;
    for (const AdaptedLayer& layer : layers) {
      torch::Tensor weight = layer.linear->weight;  // shares storage
      // Artifacts are parsed on the CPU; the fold runs where the model is.
      const LayerFactors factors = artifact.layers.at(layer.name).To(weight.device());
      const torch::Tensor cumulative = state.cumulative_mask(layer.name);
      weight.add_(FoldedDelta(artifact.config, factors, cumulative).to(weight.dtype()));
      if (masked) {
        state.AddToMask(layer.name, FoldMask(artifact.config, factors, cumulative));
      }
    }
    table->weight[id].copy_(artifact.token_row.to(table->weight.device(), table->weight.dtype()));
    state.CountFold();
  });
}

}  // namespace stamina::core
