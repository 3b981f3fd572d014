#include "worker/base_model_spec.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
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

// The files of a diffusers-layout folder that make up the model: its
// model_index.json and every file of its component folders, sorted.
absl::StatusOr<std::vector<std::string>> DiffusersModelFiles(const std::string& dir) {
  std::vector<std::string> files = {"model_index.json"};
  for (const char* component : {"scheduler", "text_encoder", "tokenizer", "unet", "vae"}) {
    std::error_code error;
    std::vector<std::string> found;
    for (const auto& entry :
         std::filesystem::directory_iterator(dir + "/" + component, error)) {
      if (entry.is_regular_file()) {
        found.push_back(std::string(component) + "/" + entry.path().filename().string());
      }
    }
    if (error) {
      return absl::NotFoundError(absl::StrCat("base model folder ", dir, ": cannot list ",
                                              component, "/: ", error.message()));
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

bool IsDiffusersFolder(const std::string& dir) {
  absl::StatusOr<std::string> index = ReadWholeFile(dir + "/model_index.json");
  if (!index.ok()) return false;
  const nlohmann::json json = nlohmann::json::parse(*index, nullptr, false);
  return json.is_object() && json.contains("_class_name");
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
  std::vector<std::string> files(std::begin(kModelFiles), std::end(kModelFiles));
  if (IsDiffusersFolder(spec.dir)) {
    STAMINA_ASSIGN_OR_RETURN(files, DiffusersModelFiles(spec.dir));
  }
  std::string manifest;
  for (const std::string& name : files) {
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
