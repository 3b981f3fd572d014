#include "server/work_queue_service_impl.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rpc/grpc_status.h"
#include "rpc/internal_calls.h"
#include "rpc/resource_names.h"
#include "rpc/sample_messages.h"
#include "server/proto_conversions.h"
#include "storage/sha256.h"

namespace stamina::server {
namespace {

storage::JobProgressRecord FromProto(const v1::JobProgress& progress,
                                     double training_seconds) {
  return {.phase = static_cast<storage::JobPhase>(progress.phase()),
          .step = progress.step(),
          .total_steps = progress.total_steps(),
          .loss = progress.loss(),
          .training_seconds = training_seconds};
}

std::set<std::string> Inputs(const internal::v1::TrainingTask& task) {
  std::set<std::string> inputs = {task.base_model_digest()};
  for (const auto& adapter : task.parent_adapters()) {
    inputs.insert(adapter.adapter_digest());
  }
  for (const auto& image : task.images()) inputs.insert(image.digest());
  return inputs;
}

}  // namespace

absl::Status WorkQueueServiceImpl::CheckCaller(
    const grpc::ServerContext* call) const {
  if (options_.tokens == nullptr) {
    return absl::UnauthenticatedError("the work queue has no worker tokens");
  }
  return options_.tokens->Authenticate(*call, rpc::InternalRole::kWorker, "the work queue")
      .status();
}

absl::StatusOr<internal::v1::TrainingTask> WorkQueueServiceImpl::TaskFor(
    const storage::JobRecord& job) const {
  internal::v1::TrainingTask task;
  task.set_job(rpc::FormatJobName(job.model_id, job.id));
  task.set_attempt(job.attempt);
  STAMINA_ASSIGN_OR_RETURN(storage::ModelRecord model,
                           ctx_->models->GetModel(job.tenant_id, job.model_id));
  task.set_base_model(rpc::FormatBaseModelName(model.base_model_id));
  task.set_base_model_digest(model.base_digest);
  if (job.parent_version.has_value()) {
    task.set_parent_version(rpc::FormatVersionName(job.model_id, *job.parent_version));
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<storage::LineageStep> chain,
        ctx_->lineage->Lineage(job.tenant_id, job.model_id, job.parent_version));
    for (const auto& step : chain) {
      internal::v1::AdapterRef* ref = task.add_parent_adapters();
      ref->set_version(rpc::FormatVersionName(job.model_id, step.version.version));
      ref->set_concept(rpc::FormatConceptName(job.model_id, step.version.concept_id));
      ref->set_token(step.version.token);
      ref->set_adapter_digest(step.version.adapter_digest);
    }
  }
  STAMINA_ASSIGN_OR_RETURN(
      storage::ConceptRecord concept_record,
      ctx_->models->GetConcept(job.tenant_id, job.model_id, job.concept_id));
  task.set_concept(rpc::FormatConceptName(job.model_id, job.concept_id));
  task.set_token(concept_record.token);
  for (const auto& t : concept_record.caption_templates) task.add_caption_templates(t);
  STAMINA_ASSIGN_OR_RETURN(
      std::vector<storage::ImageRecord> images,
      ctx_->models->ListImages(job.tenant_id, job.model_id, job.concept_id));
  for (const auto& image : images) {
    internal::v1::TrainingImage* out = task.add_images();
    out->set_digest(image.digest);
    out->set_caption(image.caption);
  }
  task.mutable_settings()->ParseFromString(job.settings);
  return task;
}

grpc::Status WorkQueueServiceImpl::LeaseJob(
    grpc::ServerContext* call, const internal::v1::LeaseJobRequest* request,
    internal::v1::LeaseJobResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_RETURN_IF_ERROR(CheckCaller(call));
    if (request->worker().empty()) {
      return absl::InvalidArgumentError("worker: required");
    }
    if (request->has_device() && ctx_->devices != nullptr) {
      ctx_->devices->Report(request->worker(), rpc::FromProto(request->device()));
    }
    const absl::Duration wait =
        std::min(absl::Milliseconds(std::max(0, request->wait_ms())),
                 options_.max_wait);
    const absl::Time deadline = ctx_->clock->Now() + wait;
    while (true) {
      STAMINA_ASSIGN_OR_RETURN(
          std::optional<storage::JobLease> lease,
          ctx_->jobs->Claim(absl::StrCat(request->worker(), "/", request->slot()),
                            options_.lease_ttl));
      if (lease.has_value()) {
        internal::v1::Lease* out = response->mutable_lease();
        out->set_lease_id(lease->lease_id);
        *out->mutable_expire_time() = ToTimestamp(lease->expire_time);
        const absl::Duration interval = options_.lease_ttl / 3;
        const int64_t seconds = absl::ToInt64Seconds(interval);
        out->mutable_heartbeat_interval()->set_seconds(seconds);
        out->mutable_heartbeat_interval()->set_nanos(static_cast<int32_t>(
            absl::ToInt64Nanoseconds(interval - absl::Seconds(seconds))));
        STAMINA_ASSIGN_OR_RETURN(*out->mutable_task(), TaskFor(lease->job));
        return absl::OkStatus();
      }
      if (call->IsCancelled() || ctx_->clock->Now() >= deadline) {
        return absl::OkStatus();  // no lease: nothing runnable in time
      }
      ctx_->clock->SleepFor(options_.poll_interval);
    }
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status WorkQueueServiceImpl::Heartbeat(
    grpc::ServerContext* call, const internal::v1::HeartbeatRequest* request,
    internal::v1::HeartbeatResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_RETURN_IF_ERROR(CheckCaller(call));
    STAMINA_ASSIGN_OR_RETURN(
        storage::HeartbeatResult beat,
        ctx_->jobs->Heartbeat(request->lease_id(),
                              FromProto(request->progress(),
                                        request->training_seconds()),
                              options_.lease_ttl));
    *response->mutable_expire_time() = ToTimestamp(beat.expire_time);
    response->set_cancel_requested(beat.cancel_requested);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status WorkQueueServiceImpl::FetchBlob(
    grpc::ServerContext* call, const internal::v1::FetchBlobRequest* request,
    grpc::ServerWriter<internal::v1::FetchBlobResponse>* writer) {
  auto run = [&]() -> absl::Status {
    STAMINA_RETURN_IF_ERROR(CheckCaller(call));
    STAMINA_ASSIGN_OR_RETURN(storage::JobRecord job,
                             ctx_->jobs->GetLeased(request->lease_id()));
    STAMINA_ASSIGN_OR_RETURN(internal::v1::TrainingTask task, TaskFor(job));
    if (Inputs(task).count(request->digest()) == 0) {
      return absl::NotFoundError(absl::StrCat(
          "digest: ", request->digest().substr(0, 80),
          " is not an input of ", task.job()));
    }
    STAMINA_ASSIGN_OR_RETURN(std::string bytes, ctx_->blobs->Get(request->digest()));
    return rpc::WriteBlobChunks<internal::v1::FetchBlobResponse>(
        bytes, options_.chunk_bytes, *writer);
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status WorkQueueServiceImpl::UploadArtifact(
    grpc::ServerContext* call,
    grpc::ServerReader<internal::v1::UploadArtifactRequest>* reader,
    internal::v1::UploadArtifactResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_RETURN_IF_ERROR(CheckCaller(call));
    internal::v1::UploadArtifactRequest message;
    if (!reader->Read(&message) || !message.has_header()) {
      return absl::InvalidArgumentError("header: the first message must be the header");
    }
    const auto header = message.header();
    STAMINA_RETURN_IF_ERROR(ctx_->jobs->GetLeased(header.lease_id()).status());
    if (header.size_bytes() < 0 || header.size_bytes() > options_.max_artifact_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "header.size_bytes: ", header.size_bytes(), " is over the limit of ",
          options_.max_artifact_bytes));
    }
    std::string bytes;
    bytes.reserve(static_cast<size_t>(header.size_bytes()));
    while (reader->Read(&message)) {
      if (message.has_header()) {
        return absl::InvalidArgumentError("header: sent twice");
      }
      if (static_cast<int64_t>(bytes.size() + message.chunk().size()) >
          header.size_bytes()) {
        return absl::InvalidArgumentError("chunk: more bytes than header.size_bytes");
      }
      bytes += message.chunk();
    }
    if (static_cast<int64_t>(bytes.size()) != header.size_bytes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "header.size_bytes: announced ", header.size_bytes(), ", received ",
          bytes.size()));
    }
    if (storage::Sha256Hex(bytes) != header.sha256()) {
      return absl::InvalidArgumentError("header.sha256: does not match the bytes");
    }
    STAMINA_ASSIGN_OR_RETURN(std::string digest, ctx_->blobs->Put(bytes));
    response->set_digest(digest);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status WorkQueueServiceImpl::CompleteJob(
    grpc::ServerContext* call, const internal::v1::CompleteJobRequest* request,
    internal::v1::CompleteJobResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_RETURN_IF_ERROR(CheckCaller(call));
    STAMINA_ASSIGN_OR_RETURN(storage::JobRecord job,
                             ctx_->jobs->GetLeased(request->lease_id()));
    // One read gives the size and re-checks the bytes against the digest.
    absl::StatusOr<std::string> artifact =
        ctx_->blobs->Get(request->adapter_digest());
    if (absl::IsNotFound(artifact.status())) {
      return absl::FailedPreconditionError(
          "adapter_digest: upload the artifact with UploadArtifact first");
    }
    STAMINA_RETURN_IF_ERROR(artifact.status());
    STAMINA_ASSIGN_OR_RETURN(
        storage::VersionRecord version,
        ctx_->jobs->Complete(request->lease_id(),
                             {.adapter_digest = request->adapter_digest(),
                              .adapter_size_bytes =
                                  static_cast<int64_t>(artifact->size()),
                              .settings = job.settings,
                              .metrics = request->metrics().SerializeAsString()}));
    if (ctx_->on_job_succeeded) ctx_->on_job_succeeded(job, version);
    response->set_version(rpc::FormatVersionName(version.model_id, version.version));
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status WorkQueueServiceImpl::FailJob(
    grpc::ServerContext* call, const internal::v1::FailJobRequest* request,
    internal::v1::FailJobResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_RETURN_IF_ERROR(CheckCaller(call));
    if (!request->cancelled() && request->error().code() == 0) {
      return absl::InvalidArgumentError("error.code: required unless cancelled");
    }
    STAMINA_ASSIGN_OR_RETURN(
        storage::JobState state,
        ctx_->jobs->Fail(request->lease_id(),
                         {.code = request->error().code(),
                          .message = request->error().message(),
                          .retryable = request->error().retryable()},
                         request->cancelled()));
    response->set_state(static_cast<v1::JobState>(state));
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

}  // namespace stamina::server
