// File: server/blob_service_impl.h
//
// stamina.internal.v1.BlobService: read access to the content-addressed
// blob store for sampler replicas (stamina-sampler), which fold adapter
// artifacts they do not hold. Callers present the internal token, as
// training workers do on the WorkQueue. ReadBlob streams the blob in chunks
// (the first carries the size); INVALID_ARGUMENT for a digest that is not a
// SHA-256, NOT_FOUND for an unknown one, DATA_LOSS when the stored bytes no
// longer hash to it. Thread-safe.
#ifndef STAMINA_SERVER_BLOB_SERVICE_IMPL_H_
#define STAMINA_SERVER_BLOB_SERVICE_IMPL_H_

#include <string>

#include "stamina/internal/v1/sampler_backend.grpc.pb.h"
#include "storage/blob_store.h"

namespace stamina::server {

class BlobServiceImpl final : public internal::v1::BlobService::Service {
 public:
  struct Options {
    storage::BlobStore* blobs = nullptr;  // not owned
    // Callers present `authorization: Bearer <internal_token>`; empty
    // refuses every call.
    std::string internal_token;
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
