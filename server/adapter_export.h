// File: server/adapter_export.h
//
// The ADAPTERS form of ExportModel, gRPC-free and torch-free: a version's
// adapter chain as the registry holds it (one safetensors artifact per
// concept, as trained, oldest first) plus lineage.json, so a user can take
// the concepts to another copy of the base model. Files:
//   adapters/001-<token name>.safetensors, 002-..., ...
//   lineage.json  {"version", "base_model", "base_model_digest",
//                  "concepts": [{"token", "file", "digest"}]}
// Thread-safe: reads the thread-safe blob store.
#ifndef STAMINA_SERVER_ADAPTER_EXPORT_H_
#define STAMINA_SERVER_ADAPTER_EXPORT_H_

#include <string>

#include "absl/status/status.h"
#include "rpc/sample_router.h"
#include "storage/blob_store.h"

namespace stamina::server {

// Streams `bytes` as the file `path` in pieces of rpc::kExportPieceBytes.
absl::Status SendExportFile(rpc::ExportSink& sink, const std::string& path,
                            absl::string_view bytes);

// FAILED_PRECONDITION when the recipe has no adapters (the model has no
// version); NOT_FOUND/DATA_LOSS from the blob store; CANCELLED when the sink
// says so.
absl::Status ExportAdapters(storage::BlobStore& blobs, const rpc::ModelRecipe& recipe,
                            const std::string& version_name, rpc::ExportSink& sink);

}  // namespace stamina::server

#endif  // STAMINA_SERVER_ADAPTER_EXPORT_H_
