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
    STAMINA_RETURN_IF_ERROR(
        rpc::CheckInternalToken(*call, options_.internal_token, "the blob service"));
    if (!storage::IsSha256Hex(request->digest())) {
      return absl::InvalidArgumentError(
          absl::StrCat("digest: \"", request->digest().substr(0, 80),
                       "\" is not a SHA-256 (64 lowercase hex characters)"));
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
