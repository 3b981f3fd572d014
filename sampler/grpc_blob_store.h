// File: sampler/grpc_blob_store.h
//
// GrpcBlobStore: a sampler replica's read-only view of the front end's
// content-addressed blobs. Get() answers from a local directory cache
// (a FileBlobStore, which re-hashes on every read) and otherwise streams the
// blob from the front end's stamina.internal.v1.BlobService with the
// internal token, checks that the bytes hash to the digest (DATA_LOSS, and
// nothing cached, when they do not) and keeps them in the cache. Put() is
// FAILED_PRECONDITION: replicas never write blobs. Delete() and List() act on
// the local cache only.
//
// Thread-safe. Two concurrent misses of one digest may both fetch it; the
// content-addressed cache makes the second write a no-op.
#ifndef STAMINA_SAMPLER_GRPC_BLOB_STORE_H_
#define STAMINA_SAMPLER_GRPC_BLOB_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "stamina/internal/v1/sampler_backend.grpc.pb.h"
#include "storage/blob_store.h"
#include "storage/file_blob_store.h"

namespace stamina::sampler {

class GrpcBlobStore final : public storage::BlobStore {
 public:
  struct Options {
    // The front end (staminad) serving BlobService.
    std::shared_ptr<grpc::Channel> channel;
    std::string internal_token;
    // The local cache's directory; created (with its parents) if missing.
    std::string cache_dir;
    absl::Duration transfer_timeout = absl::Minutes(10);
  };

  // INVALID_ARGUMENT for a missing channel, token or cache_dir.
  static absl::StatusOr<std::unique_ptr<GrpcBlobStore>> Create(Options options);

  absl::StatusOr<std::string> Put(absl::string_view bytes) override;
  // INVALID_ARGUMENT, NOT_FOUND and UNAUTHENTICATED come from the front end;
  // DATA_LOSS when the bytes it sent do not hash to `digest`.
  absl::StatusOr<std::string> Get(absl::string_view digest) override;
  absl::StatusOr<bool> Has(absl::string_view digest) override;
  absl::Status Delete(absl::string_view digest) override;
  absl::StatusOr<std::vector<storage::BlobInfo>> List() override;

  // Blobs streamed from the front end so far (cache misses that got bytes).
  int64_t fetches() const { return fetches_.load(); }

 private:
  GrpcBlobStore(Options options, std::unique_ptr<storage::FileBlobStore> cache);

  absl::StatusOr<std::string> Fetch(absl::string_view digest);

  const Options options_;
  const std::unique_ptr<storage::FileBlobStore> cache_;
  const std::unique_ptr<internal::v1::BlobService::Stub> stub_;
  std::atomic<int64_t> fetches_{0};
};

}  // namespace stamina::sampler

#endif  // STAMINA_SAMPLER_GRPC_BLOB_STORE_H_
