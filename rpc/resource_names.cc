#include "rpc/resource_names.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "storage/sha256.h"

namespace stamina::rpc {
namespace {

// Splits `name` against a pattern like {"models", "*", "jobs", "*"} and
// returns the variable segments.
absl::StatusOr<std::vector<std::string>> Match(
    absl::string_view name, absl::string_view field,
    const std::vector<absl::string_view>& pattern, absl::string_view form) {
  std::vector<std::string> parts = absl::StrSplit(name, '/');
  auto malformed = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", name.substr(0, 200),
                     "\" is not of the form ", form));
  };
  if (parts.size() != pattern.size()) return malformed();
  std::vector<std::string> values;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (pattern[i] == "*") {
      if (parts[i].empty()) return malformed();
      values.push_back(parts[i]);
    } else if (parts[i] != pattern[i]) {
      return malformed();
    }
  }
  return values;
}

absl::Status CheckId(const std::string& id, absl::string_view field) {
  return ValidateResourceId(id, field);
}

}  // namespace

absl::StatusOr<ModelName> ParseModelName(absl::string_view name,
                                         absl::string_view field) {
  STAMINA_ASSIGN_OR_RETURN(auto v, Match(name, field, {"models", "*"},
                                         "models/{model}"));
  STAMINA_RETURN_IF_ERROR(CheckId(v[0], field));
  return ModelName{v[0]};
}

absl::StatusOr<VersionName> ParseVersionName(absl::string_view name,
                                             absl::string_view field) {
  STAMINA_ASSIGN_OR_RETURN(
      auto v, Match(name, field, {"models", "*", "versions", "*"},
                    "models/{model}/versions/{version}"));
  STAMINA_RETURN_IF_ERROR(CheckId(v[0], field));
  VersionName parsed{v[0], 0};
  if (!absl::SimpleAtoi(v[1], &parsed.version) || parsed.version <= 0 ||
      absl::StrCat(parsed.version) != v[1]) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": version \"", v[1], "\" is not a positive decimal number"));
  }
  return parsed;
}

absl::StatusOr<ConceptName> ParseConceptName(absl::string_view name,
                                             absl::string_view field) {
  STAMINA_ASSIGN_OR_RETURN(
      auto v, Match(name, field, {"models", "*", "concepts", "*"},
                    "models/{model}/concepts/{concept}"));
  STAMINA_RETURN_IF_ERROR(CheckId(v[0], field));
  STAMINA_RETURN_IF_ERROR(CheckId(v[1], field));
  return ConceptName{v[0], v[1]};
}

absl::StatusOr<ImageName> ParseImageName(absl::string_view name,
                                         absl::string_view field) {
  STAMINA_ASSIGN_OR_RETURN(
      auto v, Match(name, field, {"models", "*", "concepts", "*", "images", "*"},
                    "models/{model}/concepts/{concept}/images/{image}"));
  STAMINA_RETURN_IF_ERROR(CheckId(v[0], field));
  STAMINA_RETURN_IF_ERROR(CheckId(v[1], field));
  if (!storage::IsSha256Hex(v[2])) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": image id \"", v[2].substr(0, 80),
        "\" is not a SHA-256 in lowercase hex"));
  }
  return ImageName{v[0], v[1], v[2]};
}

absl::StatusOr<JobName> ParseJobName(absl::string_view name,
                                     absl::string_view field) {
  STAMINA_ASSIGN_OR_RETURN(auto v, Match(name, field, {"models", "*", "jobs", "*"},
                                         "models/{model}/jobs/{job}"));
  STAMINA_RETURN_IF_ERROR(CheckId(v[0], field));
  STAMINA_RETURN_IF_ERROR(CheckId(v[1], field));
  return JobName{v[0], v[1]};
}

absl::StatusOr<ErasureName> ParseErasureName(absl::string_view name, absl::string_view field) {
  STAMINA_ASSIGN_OR_RETURN(auto v, Match(name, field, {"models", "*", "erasures", "*"},
                                         "models/{model}/erasures/{erasure}"));
  STAMINA_RETURN_IF_ERROR(CheckId(v[0], field));
  STAMINA_RETURN_IF_ERROR(CheckId(v[1], field));
  return ErasureName{v[0], v[1]};
}

absl::StatusOr<std::string> ParseBaseModelName(absl::string_view name,
                                               absl::string_view field) {
  STAMINA_ASSIGN_OR_RETURN(auto v, Match(name, field, {"baseModels", "*"},
                                         "baseModels/{base_model}"));
  STAMINA_RETURN_IF_ERROR(CheckId(v[0], field));
  return v[0];
}

std::string FormatModelName(absl::string_view model) {
  return absl::StrCat("models/", model);
}
std::string FormatVersionName(absl::string_view model, int64_t version) {
  return absl::StrCat("models/", model, "/versions/", version);
}
std::string FormatConceptName(absl::string_view model,
                              absl::string_view concept_id) {
  return absl::StrCat("models/", model, "/concepts/", concept_id);
}
std::string FormatImageName(absl::string_view model,
                            absl::string_view concept_id,
                            absl::string_view image) {
  return absl::StrCat("models/", model, "/concepts/", concept_id, "/images/",
                      image);
}
std::string FormatJobName(absl::string_view model, absl::string_view job) {
  return absl::StrCat("models/", model, "/jobs/", job);
}
std::string FormatErasureName(absl::string_view model, absl::string_view erasure) {
  return absl::StrCat("models/", model, "/erasures/", erasure);
}
std::string FormatBaseModelName(absl::string_view base_model) {
  return absl::StrCat("baseModels/", base_model);
}

}  // namespace stamina::rpc
