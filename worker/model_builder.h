// File: worker/model_builder.h
//
// Builds the model of one version: a fresh copy of its base model with the
// version's lineage replayed on top, oldest adapter first, through
// core::FoldAdapterArtifact — the same fold the trainer uses, so the result
// equals the model the last concept was trained into. The trainer then
// trains the next concept on it; the sampler serves it.
//
//   STAMINA_ASSIGN_OR_RETURN(auto library, BaseModelLibrary::Create({resolved}));
//   STAMINA_ASSIGN_OR_RETURN(core::DiffusionModel base,
//                            library->Load(task.base_model_id, task.base_model_digest));
//   STAMINA_ASSIGN_OR_RETURN(FoldedModel folded,
//                            FoldLineage(std::move(base), artifacts, targets, &stop));
//
// Every model Load returns is on the library's device (DeviceSpec), where
// the fold, the trainer and the pipelines then run.
//
// BaseModelLibrary is thread-safe (every Load builds a new model); FoldLineage
// is a pure function of its arguments.
#ifndef STAMINA_WORKER_MODEL_BUILDER_H_
#define STAMINA_WORKER_MODEL_BUILDER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/adapters/adapted_layers.h"
#include "core/adapters/adapter_artifact.h"
#include "core/compute_device.h"
#include "core/pipelines/diffusion_model.h"
#include "worker/base_model_spec.h"

namespace stamina::worker {

class BaseModelLibrary {
 public:
  // INVALID_ARGUMENT for duplicate ids; the configs of bases with files are
  // read here (their errors, naming the base); `device` is parsed here
  // (core::ParseComputeOptions's errors).
  static absl::StatusOr<std::unique_ptr<BaseModelLibrary>> Create(
      const std::vector<ResolvedBaseModel>& bases, const DeviceSpec& device = {});

  // A new copy of the base model `id`, placed on the library's device.
  // NOT_FOUND for an unknown id;
  // FAILED_PRECONDITION when `digest` (the digest a user model was created
  // on; empty skips the check) is not this process's copy.
  absl::StatusOr<core::DiffusionModel> Load(const std::string& id, const std::string& digest) const;

  // The configs of base model `id` without loading its weights (read from
  // its files, or its architecture's for random weights). NOT_FOUND for an
  // unknown id.
  absl::StatusOr<core::DiffusionModelConfig> Config(const std::string& id) const;

  // Where the models compute.
  const core::ComputeOptions& compute() const { return compute_; }

 private:
  BaseModelLibrary(std::map<std::string, ResolvedBaseModel> bases,
                   std::map<std::string, core::DiffusionModelConfig> file_configs,
                   core::ComputeOptions compute)
      : bases_(std::move(bases)), file_configs_(std::move(file_configs)), compute_(compute) {}

  absl::StatusOr<core::DiffusionModel> LoadOnCpu(const std::string& id,
                                                 const std::string& digest) const;

  const std::map<std::string, ResolvedBaseModel> bases_;
  // By id, for the bases loaded from files.
  const std::map<std::string, core::DiffusionModelConfig> file_configs_;
  const core::ComputeOptions compute_;
};

// A version's model, and the continual state its next concept trains with.
struct FoldedModel {
  core::DiffusionModel model;
  core::ContinualState state;
  std::vector<std::string> tokens;  // concept tokens folded in, in order
  // Per folded artifact, in order: its drift reference (thumbnails, a few
  // tens of KB), or nullopt for an artifact written without one.
  std::vector<std::optional<core::DriftReference>> drift_references;
  int64_t parameter_bytes = 0;      // memory held by the model's tensors
};

// Serialized lineage artifact `index` (0-based, in lineage order).
using ArtifactReader = std::function<absl::StatusOr<std::string>(size_t index)>;

// Reads, parses (DATA_LOSS when one is malformed) and folds `count`
// artifacts into `base`, in order, one at a time: memory holds one artifact
// beside the model whatever the lineage's length. The continual state covers
// the union of the artifacts' targets and `extra_targets` (the next
// concept's). CANCELLED when `*stop` becomes true between folds.
absl::StatusOr<FoldedModel> FoldLineage(core::DiffusionModel base, size_t count,
                                        const ArtifactReader& read,
                                        const std::vector<std::string>& extra_targets,
                                        const std::atomic<bool>* stop = nullptr);
// The same over artifacts already in memory.
absl::StatusOr<FoldedModel> FoldLineage(core::DiffusionModel base,
                                        const std::vector<std::string>& artifacts,
                                        const std::vector<std::string>& extra_targets,
                                        const std::atomic<bool>* stop = nullptr);

// Bytes held by the parameters and buffers of the model's three networks.
int64_t ModelBytes(core::DiffusionModel& model);

}  // namespace stamina::worker

#endif  // STAMINA_WORKER_MODEL_BUILDER_H_
