// File: server/blob_service_impl.h
//
// stamina.internal.v1.BlobService: read access to the content-addressed
// blob store for sampler replicas (stamina-sampler), which fold adapter
// artifacts they do not hold. Served on the internal listener only. Each
// replica presents its own sampler token (rpc/internal_auth.h) and may read
// only the blobs granted to it (server/blob_grants.h: the adapters of the
// models it was sent); anything else is PERMISSION_DENIED, whether or not the
// blob exists. ReadBlob streams the blob in chunks (the first carries the
// size); INVALID_ARGUMENT for a digest that is not a SHA-256, NOT_FOUND for a
// granted one that is gone, DATA_LOSS when the stored bytes no longer hash to
// it. Thread-safe.
#ifndef STAMINA_SERVER_BLOB_SERVICE_IMPL_H_
#define STAMINA_SERVER_BLOB_SERVICE_IMPL_H_

#include <string>

#include "rpc/internal_auth.h"
#include "server/blob_grants.h"
#include "stamina/internal/v1/sampler_backend.grpc.pb.h"
#include "storage/blob_store.h"

namespace stamina::server {

class BlobServiceImpl final : public internal::v1::BlobService::Service {
 public:
  struct Options {
    storage::BlobStore* blobs = nullptr;  // not owned
    const rpc::InternalTokens* tokens = nullptr;  // not owned
    BlobGrants* grants = nullptr;                 // not owned
    int chunk_bytes = 1 << 20;
  };

  explicit BlobServiceImpl(Options options) : options_(std::move(options)) {}

  grpc::Status ReadBlob(grpc::ServerContext* call,
                        const internal::v1::ReadBlobRequest* request,
                        grpc::ServerWriter<internal::v1::ReadBlobResponse>* writer) override;

 private:
  const Options options_;
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_BLOB_SERVICE_IMPL_H_
