#include "worker/local_job_source.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace stamina::worker {

absl::StatusOr<std::unique_ptr<LocalJobSource>> LocalJobSource::Create(
    Options options) {
  if (options.jobs == nullptr || options.models == nullptr ||
      options.lineage == nullptr || options.blobs == nullptr) {
    return absl::InvalidArgumentError("LocalJobSource: every store is required");
  }
  if (options.lease_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("lease_ttl: must be positive");
  }
  return std::unique_ptr<LocalJobSource>(new LocalJobSource(options));
}

absl::StatusOr<TrainingTask> LocalJobSource::TaskFor(
    const storage::JobRecord& job) const {
  TrainingTask task{.tenant_id = job.tenant_id,
                    .model_id = job.model_id,
                    .job_id = job.id,
                    .attempt = job.attempt,
                    .parent_version = job.parent_version,
                    .concept_id = job.concept_id};
  STAMINA_ASSIGN_OR_RETURN(storage::ModelRecord model,
                           options_.models->GetModel(job.tenant_id, job.model_id));
  task.base_model_id = model.base_model_id;
  task.base_model_digest = model.base_digest;
  if (job.parent_version.has_value()) {
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<storage::LineageStep> chain,
        options_.lineage->Lineage(job.tenant_id, job.model_id, job.parent_version));
    for (const auto& step : chain) {
      task.parent_adapters.push_back({.version = step.version.version,
                                      .concept_id = step.version.concept_id,
                                      .token = step.version.token,
                                      .adapter_digest = step.version.adapter_digest});
    }
  }
  STAMINA_ASSIGN_OR_RETURN(
      storage::ConceptRecord concept_record,
      options_.models->GetConcept(job.tenant_id, job.model_id, job.concept_id));
  task.token = concept_record.token;
  task.caption_templates = concept_record.caption_templates;
  STAMINA_ASSIGN_OR_RETURN(
      std::vector<storage::ImageRecord> images,
      options_.models->ListImages(job.tenant_id, job.model_id, job.concept_id));
  for (const auto& image : images) {
    task.images.push_back({.digest = image.digest, .caption = image.caption});
  }
  if (!task.settings.ParseFromString(job.settings)) {
    return absl::DataLossError(
        absl::StrCat("job ", job.id, ": stored settings do not parse"));
  }
  return task;
}

absl::StatusOr<std::optional<Lease>> LocalJobSource::LeaseJob(
    const std::string& worker) {
  if (worker.empty()) return absl::InvalidArgumentError("worker: required");
  STAMINA_ASSIGN_OR_RETURN(std::optional<storage::JobLease> claimed,
                           options_.jobs->Claim(worker, options_.lease_ttl));
  if (!claimed.has_value()) return std::optional<Lease>();
  absl::StatusOr<TrainingTask> task = TaskFor(claimed->job);
  if (!task.ok()) {
    // The job cannot even be described (e.g. its settings are corrupt): end
    // the attempt so that it does not come back forever.
    (void)options_.jobs->Fail(claimed->lease_id,
                              {.code = static_cast<int>(task.status().code()),
                               .message = std::string(task.status().message()),
                               .retryable = false},
                              /*cancelled=*/false);
    return task.status();
  }
  return std::optional<Lease>(Lease{.lease_id = claimed->lease_id,
                                    .expire_time = claimed->expire_time,
                                    .heartbeat_interval = options_.lease_ttl / 3,
                                    .task = *std::move(task)});
}

absl::StatusOr<HeartbeatReply> LocalJobSource::Heartbeat(
    const std::string& lease_id, const storage::JobProgressRecord& progress) {
  STAMINA_ASSIGN_OR_RETURN(
      storage::HeartbeatResult beat,
      options_.jobs->Heartbeat(lease_id, progress, options_.lease_ttl));
  return HeartbeatReply{.expire_time = beat.expire_time,
                        .cancel_requested = beat.cancel_requested};
}

absl::StatusOr<std::string> LocalJobSource::ReadInput(const std::string& lease_id,
                                                      const std::string& digest) {
  STAMINA_ASSIGN_OR_RETURN(storage::JobRecord job,
                           options_.jobs->GetLeased(lease_id));
  STAMINA_ASSIGN_OR_RETURN(TrainingTask task, TaskFor(job));
  bool input = false;
  for (const auto& adapter : task.parent_adapters) {
    input = input || adapter.adapter_digest == digest;
  }
  for (const auto& image : task.images) input = input || image.digest == digest;
  if (!input) {
    return absl::NotFoundError(absl::StrCat("digest: ", digest.substr(0, 80),
                                            " is not an input of job ", job.id));
  }
  return options_.blobs->Get(digest);
}

absl::StatusOr<std::string> LocalJobSource::StoreArtifact(
    const std::string& lease_id, const std::string& bytes) {
  STAMINA_RETURN_IF_ERROR(options_.jobs->GetLeased(lease_id).status());
  return options_.blobs->Put(bytes);
}

absl::StatusOr<int64_t> LocalJobSource::Complete(
    const std::string& lease_id, const std::string& adapter_digest,
    const v1::TrainingMetrics& metrics) {
  STAMINA_ASSIGN_OR_RETURN(storage::JobRecord job,
                           options_.jobs->GetLeased(lease_id));
  // One read gives the size and re-checks the bytes against the digest.
  absl::StatusOr<std::string> artifact = options_.blobs->Get(adapter_digest);
  if (absl::IsNotFound(artifact.status())) {
    return absl::FailedPreconditionError(
        "adapter_digest: store the artifact with StoreArtifact first");
  }
  STAMINA_RETURN_IF_ERROR(artifact.status());
  STAMINA_ASSIGN_OR_RETURN(
      storage::VersionRecord version,
      options_.jobs->Complete(
          lease_id, {.adapter_digest = adapter_digest,
                     .adapter_size_bytes = static_cast<int64_t>(artifact->size()),
                     .settings = job.settings,
                     .metrics = metrics.SerializeAsString()}));
  if (options_.on_succeeded) options_.on_succeeded(job, version);
  return version.version;
}

absl::StatusOr<storage::JobState> LocalJobSource::Fail(
    const std::string& lease_id, const storage::JobErrorRecord& error,
    bool cancelled) {
  if (!cancelled && error.code == 0) {
    return absl::InvalidArgumentError("error.code: required unless cancelled");
  }
  return options_.jobs->Fail(lease_id, error, cancelled);
}

}  // namespace stamina::worker
