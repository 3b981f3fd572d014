#include "server/blob_service_impl.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rpc/grpc_status.h"
#include "rpc/internal_calls.h"
#include "storage/sha256.h"

namespace stamina::server {

grpc::Status BlobServiceImpl::ReadBlob(
    grpc::ServerContext* call, const internal::v1::ReadBlobRequest* request,
    grpc::ServerWriter<internal::v1::ReadBlobResponse>* writer) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        rpc::InternalPrincipal replica,
        options_.tokens->Authenticate(*call, rpc::InternalRole::kSampler, "the blob service"));
    if (!storage::IsSha256Hex(request->digest())) {
      return absl::InvalidArgumentError(
          absl::StrCat("digest: \"", request->digest().substr(0, 80),
                       "\" is not a SHA-256 (64 lowercase hex characters)"));
    }
    if (!options_.grants->IsGranted(replica.name, request->digest())) {
      return absl::PermissionDeniedError(absl::StrCat(
          "digest: ", request->digest(), " is not an adapter of a model sent to sampler \"",
          replica.name, "\""));
    }
    absl::StatusOr<std::string> bytes = options_.blobs->Get(request->digest());
    if (absl::IsNotFound(bytes.status())) {
      return absl::NotFoundError(
          absl::StrCat("digest: no blob ", request->digest()));
    }
    STAMINA_RETURN_IF_ERROR(bytes.status());
    return rpc::WriteBlobChunks<internal::v1::ReadBlobResponse>(
        *bytes, options_.chunk_bytes, *writer);
  };
  return rpc::ToGrpcStatus(run());
}

}  // namespace stamina::server
