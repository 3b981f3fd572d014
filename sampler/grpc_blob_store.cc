#include "sampler/grpc_blob_store.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "grpcpp/client_context.h"
#include "rpc/grpc_status.h"
#include "storage/sha256.h"

namespace stamina::sampler {

GrpcBlobStore::GrpcBlobStore(Options options,
                             std::unique_ptr<storage::FileBlobStore> cache)
    : options_(std::move(options)),
      cache_(std::move(cache)),
      stub_(internal::v1::BlobService::NewStub(options_.channel)) {}

absl::StatusOr<std::unique_ptr<GrpcBlobStore>> GrpcBlobStore::Create(Options options) {
  if (options.channel == nullptr) return absl::InvalidArgumentError("channel: required");
  if (options.internal_token.empty()) {
    return absl::InvalidArgumentError("internal_token: required");
  }
  if (options.cache_dir.empty()) {
    return absl::InvalidArgumentError("cache_dir: required");
  }
  std::error_code error;
  std::filesystem::create_directories(options.cache_dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cache_dir: cannot create ", options.cache_dir, ": ", error.message()));
  }
  STAMINA_ASSIGN_OR_RETURN(std::unique_ptr<storage::FileBlobStore> cache,
                           storage::FileBlobStore::Create({.root = options.cache_dir}));
  return std::unique_ptr<GrpcBlobStore>(
      new GrpcBlobStore(std::move(options), std::move(cache)));
}

absl::StatusOr<std::string> GrpcBlobStore::Put(absl::string_view /*bytes*/) {
  return absl::FailedPreconditionError("a sampler replica's blob store is read-only");
}

absl::StatusOr<std::string> GrpcBlobStore::Get(absl::string_view digest) {
  absl::StatusOr<std::string> cached = cache_->Get(digest);
  if (cached.ok() || absl::IsInvalidArgument(cached.status())) return cached;
  // NOT_FOUND, or a damaged cache file (DATA_LOSS): fetch it again.
  if (absl::IsDataLoss(cached.status())) {
    STAMINA_RETURN_IF_ERROR(cache_->Delete(digest));
  }
  STAMINA_ASSIGN_OR_RETURN(std::string bytes, Fetch(digest));
  STAMINA_RETURN_IF_ERROR(cache_->Put(bytes).status());
  return bytes;
}

absl::StatusOr<std::string> GrpcBlobStore::Fetch(absl::string_view digest) {
  internal::v1::ReadBlobRequest request;
  request.set_digest(std::string(digest));
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + options_.internal_token);
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.transfer_timeout));
  auto reader = stub_->ReadBlob(&context, request);
  std::string bytes;
  internal::v1::ReadBlobResponse chunk;
  while (reader->Read(&chunk)) {
    if (chunk.size_bytes() > 0) bytes.reserve(static_cast<size_t>(chunk.size_bytes()));
    bytes += chunk.chunk();
  }
  STAMINA_RETURN_IF_ERROR(rpc::FromGrpcStatus(reader->Finish()));
  if (storage::Sha256Hex(bytes) != digest) {
    return absl::DataLossError(absl::StrCat("blob ", digest,
                                            " arrived from the front end with other bytes"));
  }
  fetches_.fetch_add(1);
  return bytes;
}

absl::StatusOr<bool> GrpcBlobStore::Has(absl::string_view digest) {
  absl::StatusOr<std::string> bytes = Get(digest);
  if (absl::IsNotFound(bytes.status())) return false;
  STAMINA_RETURN_IF_ERROR(bytes.status());
  return true;
}

absl::Status GrpcBlobStore::Delete(absl::string_view digest) {
  return cache_->Delete(digest);
}

absl::StatusOr<std::vector<storage::BlobInfo>> GrpcBlobStore::List() {
  return cache_->List();
}

}  // namespace stamina::sampler
