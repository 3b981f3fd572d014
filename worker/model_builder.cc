#include "worker/model_builder.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/adapters/adapter_artifact.h"
#include "core/pipelines/base_models.h"
#include "torch/torch.h"

namespace stamina::worker {
namespace {

int64_t ModuleBytes(torch::nn::Module& module) {
  int64_t bytes = 0;
  for (const torch::Tensor& t : module.parameters()) bytes += t.nbytes();
  for (const torch::Tensor& t : module.buffers()) bytes += t.nbytes();
  return bytes;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BaseModelLibrary>> BaseModelLibrary::Create(
    const std::vector<ResolvedBaseModel>& bases, const DeviceSpec& device) {
  STAMINA_ASSIGN_OR_RETURN(core::ComputeOptions compute,
                           core::ParseComputeOptions(device.device, device.compute_dtype));
  std::map<std::string, ResolvedBaseModel> by_id;
  for (const auto& base : bases) {
    if (!by_id.emplace(base.id, base).second) {
      return absl::InvalidArgumentError(absl::StrCat("base model ", base.id, " given twice"));
    }
  }
  // Configs of bases with files are read once, here: a folder whose configs
  // cannot be built fails the process's start-up, not its first request.
  std::map<std::string, core::DiffusionModelConfig> file_configs;
  for (const auto& [id, base] : by_id) {
    if (base.dir.empty()) continue;
    absl::StatusOr<core::DiffusionModelConfig> config = core::ReadDiffusionModelConfig(base.dir);
    if (!config.ok()) {
      return absl::Status(config.status().code(),
                          absl::StrCat("base model ", id, ": ", config.status().message()));
    }
    file_configs.emplace(id, *std::move(config));
  }
  return std::unique_ptr<BaseModelLibrary>(
      new BaseModelLibrary(std::move(by_id), std::move(file_configs), compute));
}

absl::StatusOr<core::DiffusionModel> BaseModelLibrary::Load(const std::string& id,
                                                            const std::string& digest) const {
  STAMINA_ASSIGN_OR_RETURN(core::DiffusionModel model, LoadOnCpu(id, digest));
  STAMINA_RETURN_IF_ERROR(core::PlaceModel(model, compute_));
  return model;
}

absl::StatusOr<core::DiffusionModel> BaseModelLibrary::LoadOnCpu(const std::string& id,
                                                                 const std::string& digest) const {
  const auto it = bases_.find(id);
  if (it == bases_.end()) {
    return absl::NotFoundError(absl::StrCat("base model ", id, " is not available on this worker"));
  }
  const ResolvedBaseModel& base = it->second;
  if (!digest.empty() && digest != base.digest) {
    return absl::FailedPreconditionError(
        absl::StrCat("base model ", id, ": the model was created on weights ", digest.substr(0, 12),
                     "... but this process has ", base.digest.substr(0, 12), "..."));
  }
  if (base.dir.empty()) return core::CreateBaseModel(id, base.random_seed);
  return core::LoadDiffusionModel(base.dir);
}

absl::StatusOr<core::DiffusionModelConfig> BaseModelLibrary::Config(const std::string& id) const {
  const auto it = bases_.find(id);
  if (it == bases_.end()) {
    return absl::NotFoundError(absl::StrCat("base model ", id, " is not available on this worker"));
  }
  const auto config = file_configs_.find(id);
  if (config != file_configs_.end()) return config->second;
  return core::BaseModelConfig(id);
}

int64_t ModelBytes(core::DiffusionModel& model) {
  return ModuleBytes(*model.text_encoder) + ModuleBytes(*model.unet) + ModuleBytes(*model.vae);
}

absl::StatusOr<FoldedModel> FoldLineage(core::DiffusionModel base, size_t count,
                                        const ArtifactReader& read,
                                        const std::vector<std::string>& extra_targets,
                                        const std::atomic<bool>* stop) {
  FoldedModel folded{.model = std::move(base)};
  // The next concept's layers, before any fold; each artifact's own layers
  // just before its fold (ContinualState::Cover): untouched until then.
  STAMINA_ASSIGN_OR_RETURN(folded.state,
                           core::ContinualState::Create(folded.model.unet, extra_targets));
  for (size_t i = 0; i < count; ++i) {
    if (stop != nullptr && stop->load()) {
      return absl::CancelledError("cancelled while folding the lineage");
    }
    auto artifact = [&]() -> absl::StatusOr<core::AdapterArtifact> {
      STAMINA_ASSIGN_OR_RETURN(const std::string bytes, read(i));
      return core::ParseAdapterArtifact(bytes);
    }();
    if (!artifact.ok()) {
      return absl::Status(artifact.status().code(), absl::StrCat("lineage adapter ", i + 1, ": ",
                                                                 artifact.status().message()));
    }
    absl::Status folded_one = folded.state.Cover(folded.model.unet, artifact->config.targets);
    if (folded_one.ok()) {
      folded_one = core::FoldAdapterArtifact(*artifact, folded.model, folded.state);
    }
    if (!folded_one.ok()) {
      return absl::Status(folded_one.code(),
                          absl::StrCat("folding lineage adapter ", i + 1, " (", artifact->token,
                                       "): ", folded_one.message()));
    }
    folded.tokens.push_back(artifact->token);
    folded.drift_references.push_back(std::move(artifact->drift_reference));
  }
  folded.parameter_bytes = ModelBytes(folded.model);
  return folded;
}

absl::StatusOr<FoldedModel> FoldLineage(core::DiffusionModel base,
                                        const std::vector<std::string>& artifacts,
                                        const std::vector<std::string>& extra_targets,
                                        const std::atomic<bool>* stop) {
  return FoldLineage(
      std::move(base), artifacts.size(),
      [&](size_t i) -> absl::StatusOr<std::string> { return artifacts[i]; }, extra_targets, stop);
}

}  // namespace stamina::worker
