#include "worker/base_model_spec.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/sha256.h"

namespace stamina::worker {
namespace {

// The files SaveDiffusionModel writes (core/pipelines/base_models.h).
constexpr const char* kModelFiles[] = {
    "model_index.json", "text_encoder.safetensors", "unet.safetensors",
    "vae.safetensors", "vocabulary.txt"};

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return bytes.str();
}

bool HasModelIndex(const std::string& dir) {
  return !dir.empty() && std::ifstream(dir + "/model_index.json").good();
}

}  // namespace

absl::StatusOr<ResolvedBaseModel> ResolveBaseModel(const BaseModelSpec& spec) {
  if (spec.id.empty()) return absl::InvalidArgumentError("base model id: required");
  ResolvedBaseModel resolved{.id = spec.id, .random_seed = spec.random_seed};
  if (!HasModelIndex(spec.dir)) {
    if (!spec.random_fallback) {
      return absl::NotFoundError(absl::StrCat(
          "base model ", spec.id, ": no model_index.json in \"", spec.dir, "\""));
    }
    resolved.digest = storage::Sha256Hex(
        absl::StrCat("random-init:", spec.id, ":", spec.random_seed));
    return resolved;
  }
  resolved.dir = spec.dir;
  std::string manifest;
  for (const char* name : kModelFiles) {
    STAMINA_ASSIGN_OR_RETURN(std::string bytes,
                             ReadWholeFile(spec.dir + "/" + name));
    absl::StrAppend(&manifest, name, " ", storage::Sha256Hex(bytes), "\n");
  }
  resolved.digest = storage::Sha256Hex(manifest);
  return resolved;
}

std::string RandomWeightsWarning(const ResolvedBaseModel& resolved,
                                 const std::string& dir_label) {
  if (!resolved.dir.empty()) return "";
  return "WARNING: no base model files in " + dir_label + "; " + resolved.id +
         " uses RANDOM weights (development only)";
}

}  // namespace stamina::worker
