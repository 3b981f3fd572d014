// File: rpc/resource_names.h
//
// Parsing and formatting of the resource names of docs/api.md:
//   models/{model}
//   models/{model}/versions/{version}
//   models/{model}/concepts/{concept}
//   models/{model}/concepts/{concept}/images/{image}
//   models/{model}/jobs/{job}
//   baseModels/{base_model}
// A malformed name is INVALID_ARGUMENT naming the request field, e.g.
// `name: "model/x" is not of the form models/{model}`.
// Thread-safe: pure functions.
#ifndef STAMINA_RPC_RESOURCE_NAMES_H_
#define STAMINA_RPC_RESOURCE_NAMES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace stamina::rpc {

struct ModelName {
  std::string model;
};
struct VersionName {
  std::string model;
  int64_t version = 0;
};
struct ConceptName {
  std::string model;
  std::string concept_id;
};
struct ImageName {
  std::string model;
  std::string concept_id;
  std::string image;  // SHA-256 hex
};
struct JobName {
  std::string model;  // "-" allowed only where the API says so
  std::string job;
};
struct ErasureName {
  std::string model;
  std::string erasure;
};

absl::StatusOr<ModelName> ParseModelName(absl::string_view name,
                                         absl::string_view field);
absl::StatusOr<VersionName> ParseVersionName(absl::string_view name,
                                             absl::string_view field);
absl::StatusOr<ConceptName> ParseConceptName(absl::string_view name,
                                             absl::string_view field);
absl::StatusOr<ImageName> ParseImageName(absl::string_view name,
                                         absl::string_view field);
absl::StatusOr<JobName> ParseJobName(absl::string_view name,
                                     absl::string_view field);
absl::StatusOr<ErasureName> ParseErasureName(absl::string_view name, absl::string_view field);
// `baseModels/{id}` → id.
absl::StatusOr<std::string> ParseBaseModelName(absl::string_view name,
                                               absl::string_view field);

std::string FormatModelName(absl::string_view model);
std::string FormatVersionName(absl::string_view model, int64_t version);
std::string FormatConceptName(absl::string_view model,
                              absl::string_view concept_id);
std::string FormatImageName(absl::string_view model,
                            absl::string_view concept_id,
                            absl::string_view image);
std::string FormatJobName(absl::string_view model, absl::string_view job);
std::string FormatErasureName(absl::string_view model, absl::string_view erasure);
std::string FormatBaseModelName(absl::string_view base_model);

}  // namespace stamina::rpc

#endif  // STAMINA_RPC_RESOURCE_NAMES_H_
