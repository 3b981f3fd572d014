#include "server/adapter_export.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "rpc/resource_names.h"

namespace stamina::server {

absl::Status SendExportFile(rpc::ExportSink& sink, const std::string& path,
                            absl::string_view bytes) {
  const int64_t size = static_cast<int64_t>(bytes.size());
  int64_t offset = 0;
  do {
    if (sink.Cancelled()) return absl::CancelledError("the caller went away");
    const int64_t n = std::min(rpc::kExportPieceBytes, size - offset);
    STAMINA_RETURN_IF_ERROR(sink.Piece(path, offset, bytes.substr(offset, n), size));
    offset += n;
  } while (offset < size);
  return absl::OkStatus();
}

absl::Status ExportAdapters(storage::BlobStore& blobs, const rpc::ModelRecipe& recipe,
                            const std::string& version_name, rpc::ExportSink& sink) {
  if (recipe.adapter_digests.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        rpc::FormatModelName(recipe.model_id), " has no version: no adapters to export"));
  }
  nlohmann::ordered_json concepts = nlohmann::ordered_json::array();
  for (size_t i = 0; i < recipe.adapter_digests.size(); ++i) {
    const std::string& token = i < recipe.tokens.size() ? recipe.tokens[i] : "";
    const std::string name(absl::StripSuffix(absl::StripPrefix(token, "<"), ">"));
    const std::string file = absl::StrFormat("adapters/%03d-%s.safetensors", i + 1,
                                             name.empty() ? "concept" : name);
    STAMINA_ASSIGN_OR_RETURN(std::string bytes, blobs.Get(recipe.adapter_digests[i]));
    STAMINA_RETURN_IF_ERROR(SendExportFile(sink, file, bytes));
    concepts.push_back(
        {{"token", token}, {"file", file}, {"digest", recipe.adapter_digests[i]}});
  }
  const nlohmann::ordered_json lineage = {
      {"version", version_name},
      {"base_model", rpc::FormatBaseModelName(recipe.base_model_id)},
      {"base_model_digest", recipe.base_model_digest},
      {"concepts", concepts}};
  return SendExportFile(sink, "lineage.json", lineage.dump(2) + "\n");
}

}  // namespace stamina::server
