// File: server/work_queue_service_impl.h
//
// stamina.internal.v1.WorkQueue: how remote training workers pull jobs. A
// lease from the JobStore becomes a TrainingTask (base digest, the parent
// version's adapters in order, the concept's token, captions and images, the
// effective settings); FetchBlob serves only that task's inputs; the artifact
// upload is size- and digest-checked before CompleteJob may commit it. A lost
// lease is ABORTED on every call. Served on the internal listener only;
// callers present a worker token (rpc/internal_auth.h). Thread-safe.
#ifndef STAMINA_SERVER_WORK_QUEUE_SERVICE_IMPL_H_
#define STAMINA_SERVER_WORK_QUEUE_SERVICE_IMPL_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "rpc/internal_auth.h"
#include "server/service_context.h"
#include "stamina/internal/v1/work_queue.grpc.pb.h"

namespace stamina::server {

struct WorkQueueOptions {
  // Whose worker tokens are accepted; not owned. Null refuses every call.
  const rpc::InternalTokens* tokens = nullptr;
  absl::Duration lease_ttl = absl::Seconds(60);
  absl::Duration max_wait = absl::Seconds(30);
  absl::Duration poll_interval = absl::Milliseconds(200);
  int64_t max_artifact_bytes = 256 << 20;
  int chunk_bytes = 1 << 20;
};

class WorkQueueServiceImpl final : public internal::v1::WorkQueue::Service {
 public:
  WorkQueueServiceImpl(const ServiceContext* context, WorkQueueOptions options)
      : ctx_(context), options_(std::move(options)) {}

  grpc::Status LeaseJob(grpc::ServerContext* call,
                        const internal::v1::LeaseJobRequest* request,
                        internal::v1::LeaseJobResponse* response) override;
  grpc::Status Heartbeat(grpc::ServerContext* call,
                         const internal::v1::HeartbeatRequest* request,
                         internal::v1::HeartbeatResponse* response) override;
  grpc::Status FetchBlob(
      grpc::ServerContext* call, const internal::v1::FetchBlobRequest* request,
      grpc::ServerWriter<internal::v1::FetchBlobResponse>* writer) override;
  grpc::Status UploadArtifact(
      grpc::ServerContext* call,
      grpc::ServerReader<internal::v1::UploadArtifactRequest>* reader,
      internal::v1::UploadArtifactResponse* response) override;
  grpc::Status CompleteJob(grpc::ServerContext* call,
                           const internal::v1::CompleteJobRequest* request,
                           internal::v1::CompleteJobResponse* response) override;
  grpc::Status FailJob(grpc::ServerContext* call,
                       const internal::v1::FailJobRequest* request,
                       internal::v1::FailJobResponse* response) override;

 private:
  absl::Status CheckCaller(const grpc::ServerContext* call) const;
  absl::StatusOr<internal::v1::TrainingTask> TaskFor(
      const storage::JobRecord& job) const;

  const ServiceContext* const ctx_;
  const WorkQueueOptions options_;
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_WORK_QUEUE_SERVICE_IMPL_H_
