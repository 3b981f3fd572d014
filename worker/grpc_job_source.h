// File: worker/grpc_job_source.h
//
// GrpcJobSource: the JobSource of a remote training worker (stamina-worker),
// a client of the front end's internal WorkQueue service
// (stamina.internal.v1.WorkQueue, server/work_queue_service_impl.h). Every
// call presents `authorization: Bearer <internal_token>`; inputs are
// streamed in with FetchBlob and the artifact out with UploadArtifact
// (size- and SHA-256-checked by the server). Status codes travel unchanged,
// so a lost lease is ABORTED exactly as in-process. The task's tenant is not
// sent to workers (TrainingTask.tenant_id stays empty).
//
// Thread-safe (gRPC stubs are).
#ifndef STAMINA_WORKER_GRPC_JOB_SOURCE_H_
#define STAMINA_WORKER_GRPC_JOB_SOURCE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "rpc/sample_router.h"
#include "stamina/internal/v1/work_queue.grpc.pb.h"
#include "worker/job_source.h"

namespace stamina::worker {

class GrpcJobSource final : public JobSource {
 public:
  struct Options {
    std::shared_ptr<grpc::Channel> channel;
    std::string internal_token;
    // The base models this worker has (the server may use it to route).
    std::vector<std::string> base_models;
    // The device its slots train on, sent with every LeaseJob.
    rpc::ComputeDeviceReport device;
    // Deadline of each unary call (streams get `transfer_timeout`).
    absl::Duration call_timeout = absl::Seconds(30);
    absl::Duration transfer_timeout = absl::Minutes(10);
    int chunk_bytes = 1 << 20;
  };

  // INVALID_ARGUMENT for a missing channel or token.
  static absl::StatusOr<std::unique_ptr<GrpcJobSource>> Create(Options options);

  absl::StatusOr<std::optional<Lease>> LeaseJob(const std::string& worker) override;
  absl::StatusOr<HeartbeatReply> Heartbeat(
      const std::string& lease_id,
      const storage::JobProgressRecord& progress) override;
  absl::StatusOr<std::string> ReadInput(const std::string& lease_id,
                                        const std::string& digest) override;
  absl::StatusOr<std::string> StoreArtifact(const std::string& lease_id,
                                            const std::string& bytes) override;
  absl::StatusOr<int64_t> Complete(const std::string& lease_id,
                                   const std::string& adapter_digest,
                                   const v1::TrainingMetrics& metrics) override;
  absl::StatusOr<storage::JobState> Fail(const std::string& lease_id,
                                         const storage::JobErrorRecord& error,
                                         bool cancelled) override;

  // The task a WorkQueue TrainingTask describes (INVALID_ARGUMENT for
  // malformed names).
  static absl::StatusOr<TrainingTask> FromProto(const internal::v1::TrainingTask& task);

 private:
  explicit GrpcJobSource(Options options);
  std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout) const;

  const Options options_;
  const std::unique_ptr<internal::v1::WorkQueue::Stub> stub_;
};

}  // namespace stamina::worker

#endif  // STAMINA_WORKER_GRPC_JOB_SOURCE_H_
