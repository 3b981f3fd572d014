#include "server/training_service_impl.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rpc/grpc_status.h"
#include "rpc/resource_names.h"
#include "server/display_text.h"
#include "server/page_tokens.h"
#include "server/proto_conversions.h"
#include "webhooks/signature.h"
#include "webhooks/url_policy.h"

namespace stamina::server {
namespace {

// Whether two snapshots differ in what a watcher must see at once.
bool Significant(const v1::Job& a, const v1::Job& b) {
  return a.state() != b.state() || a.progress().phase() != b.progress().phase() ||
         a.progress().queue_position() != b.progress().queue_position() ||
         a.cancel_requested() != b.cancel_requested() ||
         a.attempt() != b.attempt() || a.blocked_by() != b.blocked_by();
}

bool Ended(const v1::Job& job) {
  return job.state() == v1::JOB_STATE_SUCCEEDED ||
         job.state() == v1::JOB_STATE_FAILED ||
         job.state() == v1::JOB_STATE_CANCELLED;
}

// GetJob, CancelJob and RetryJob: `act` (a JobStore method) on the caller's
// job `name`, answered with the job as it then is.
absl::Status OnNamedJob(
    const ServiceContext& ctx, grpc::ServerContext* call, const std::string& name,
    absl::StatusOr<storage::JobRecord> (storage::JobStore::*act)(
        const std::string&, const std::string&, const std::string&),
    v1::Job* response) {
  STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(ctx, call));
  STAMINA_ASSIGN_OR_RETURN(rpc::JobName job_name,
                           rpc::ParseJobName(name, "name"));
  STAMINA_ASSIGN_OR_RETURN(
      storage::JobRecord job,
      (ctx.jobs->*act)(tenant, job_name.model, job_name.job));
  *response = ToProto(job);
  return absl::OkStatus();
}

}  // namespace

grpc::Status TrainingServiceImpl::TrainConcept(
    grpc::ServerContext* call, const v1::TrainConceptRequest* request,
    v1::Job* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::ModelName model,
                             rpc::ParseModelName(request->parent(), "parent"));
    STAMINA_ASSIGN_OR_RETURN(
        rpc::ConceptName concept_name,
        rpc::ParseConceptName(request->concept(), "concept"));
    if (concept_name.model != model.model) {
      return absl::InvalidArgumentError(absl::StrCat(
          "concept: ", request->concept(), " is not under ", request->parent()));
    }
    STAMINA_RETURN_IF_ERROR(CheckRequestId(request->request_id()));
    if (!request->webhook_url().empty()) {
      STAMINA_RETURN_IF_ERROR(webhooks::CheckWebhookUrl(request->webhook_url(), "webhook_url",
                                                        ctx_->webhook_allow_private_targets));
    }
    // A job whose client leaves the seed to the server records a fresh one;
    // a retried request (same request_id) gets its original job back.
    const int64_t seed = static_cast<int64_t>(
        std::hash<std::string>()(ctx_->ids->NewId()) & 0x7fffffffffffffffULL);
    STAMINA_ASSIGN_OR_RETURN(
        v1::TrainingSettings settings,
        EffectiveTrainingSettings(request->settings(), ctx_->limits, defaults_,
                                  seed));
    STAMINA_ASSIGN_OR_RETURN(storage::JobRecord job,
                             ctx_->jobs->Create({.tenant_id = tenant,
                                                 .model_id = model.model,
                                                 .concept_id = concept_name.concept_id,
                                                 .settings = settings.SerializeAsString(),
                                                 .request_id = request->request_id(),
                                                 .request_fingerprint = RequestDigest(*request),
                                                 .webhook_url = request->webhook_url()}));
    *response = ToProto(job);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status TrainingServiceImpl::GetJob(grpc::ServerContext* call,
                                         const v1::GetJobRequest* request,
                                         v1::Job* response) {
  return rpc::ToGrpcStatus(OnNamedJob(*ctx_, call, request->name(),
                                      &storage::JobStore::Get, response));
}

grpc::Status TrainingServiceImpl::ListJobs(grpc::ServerContext* call,
                                           const v1::ListJobsRequest* request,
                                           v1::ListJobsResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(std::string cursor, PageCursorOf(*request, tenant));
    storage::ListJobsQuery query{
        .tenant_id = tenant, .page_size = request->page_size(), .page_token = cursor};
    if (request->parent() != "models/-") {
      STAMINA_ASSIGN_OR_RETURN(rpc::ModelName model,
                               rpc::ParseModelName(request->parent(), "parent"));
      query.model_id = model.model;
    }
    for (int state : request->states()) {
      if (!v1::JobState_IsValid(state) || state == v1::JOB_STATE_UNSPECIFIED) {
        return absl::InvalidArgumentError(
            absl::StrCat("states: unknown job state ", state));
      }
      query.states.push_back(static_cast<storage::JobState>(state));
    }
    STAMINA_ASSIGN_OR_RETURN(storage::JobPage page, ctx_->jobs->List(query));
    for (const auto& job : page.jobs) *response->add_jobs() = ToProto(job);
    response->set_next_page_token(NextPageToken(*request, tenant, page.next_page_token));
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status TrainingServiceImpl::CancelJob(grpc::ServerContext* call,
                                            const v1::CancelJobRequest* request,
                                            v1::Job* response) {
  return rpc::ToGrpcStatus(OnNamedJob(*ctx_, call, request->name(),
                                      &storage::JobStore::Cancel, response));
}

grpc::Status TrainingServiceImpl::RetryJob(grpc::ServerContext* call,
                                           const v1::RetryJobRequest* request,
                                           v1::Job* response) {
  return rpc::ToGrpcStatus(OnNamedJob(*ctx_, call, request->name(),
                                      &storage::JobStore::Retry, response));
}

grpc::Status TrainingServiceImpl::WatchJob(
    grpc::ServerContext* call, const v1::WatchJobRequest* request,
    grpc::ServerWriter<v1::WatchJobResponse>* writer) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::JobName name,
                             rpc::ParseJobName(request->name(), "name"));
    if (request->min_interval_ms() < 0) {
      return absl::InvalidArgumentError("min_interval_ms: must be >= 0");
    }
    const absl::Duration min_interval = absl::Milliseconds(
        request->min_interval_ms() == 0 ? 500 : request->min_interval_ms());
    STAMINA_ASSIGN_OR_RETURN(CallLimits::Slot slot,
                             ctx_->calls->Acquire(LongCall::kWatch, tenant));
    std::optional<v1::Job> last;
    absl::Time last_sent;
    uint64_t seen = ctx_->job_changes->version();
    while (true) {
      if (call->IsCancelled()) return absl::CancelledError("client went away");
      STAMINA_ASSIGN_OR_RETURN(storage::JobRecord record,
                               ctx_->jobs->Get(tenant, name.model, name.job));
      v1::Job job = ToProto(record);
      const absl::Time now = ctx_->clock->Now();
      const bool send =
          !last.has_value() || Significant(*last, job) ||
          (job.progress().step() != last->progress().step() &&
           now - last_sent >= min_interval);
      if (send) {
        v1::WatchJobResponse update;
        *update.mutable_job() = job;
        if (!writer->Write(update)) {
          return absl::CancelledError("client went away");
        }
        last = job;
        last_sent = now;
      }
      if (Ended(job)) return absl::OkStatus();
      // Wake on the next job change (or re-read after the poll interval).
      // A progress step held back by min_interval is re-read when it is due.
      absl::Duration wait = ctx_->watch_poll_interval;
      if (last.has_value() && job.progress().step() != last->progress().step()) {
        wait = std::max(absl::Milliseconds(1),
                        std::min(wait, last_sent + min_interval - now));
      }
      seen = ctx_->job_changes->WaitForChange(seen, wait);
    }
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status TrainingServiceImpl::GetWebhookSecret(grpc::ServerContext* call,
                                                   const v1::GetWebhookSecretRequest*,
                                                   v1::WebhookSecret* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    if (ctx_->webhooks == nullptr) return absl::UnimplementedError("webhooks are off");
    STAMINA_ASSIGN_OR_RETURN(storage::TenantSecrets secrets,
                             ctx_->webhooks->TenantSecret(tenant, webhooks::NewWebhookSecret()));
    response->set_secret(secrets.current);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status TrainingServiceImpl::RotateWebhookSecret(grpc::ServerContext* call,
                                                      const v1::RotateWebhookSecretRequest*,
                                                      v1::RotateWebhookSecretResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    if (ctx_->webhooks == nullptr) return absl::UnimplementedError("webhooks are off");
    const std::string secret = webhooks::NewWebhookSecret();
    // Deliveries carry both signatures for a day, so receivers can switch.
    STAMINA_RETURN_IF_ERROR(
        ctx_->webhooks->ReplaceTenantSecret(tenant, secret, ctx_->clock->Now() + absl::Hours(24)));
    response->set_secret(secret);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

}  // namespace stamina::server
