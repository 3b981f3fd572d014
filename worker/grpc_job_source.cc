#include "worker/grpc_job_source.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "grpcpp/client_context.h"
#include "rpc/sample_messages.h"
#include "storage/sha256.h"

namespace stamina::worker {
namespace {

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// The segments of a resource name "a/b/c/d": INVALID_ARGUMENT unless it has
// `count` segments and the collection ids match.
absl::StatusOr<std::vector<std::string>> Segments(const std::string& name,
                                                  absl::string_view collection,
                                                  absl::string_view field) {
  std::vector<std::string> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "models" || parts[2] != collection ||
      parts[1].empty() || parts[3].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", name.substr(0, 100), "\" is not models/*/",
                     collection, "/*"));
  }
  return parts;
}

absl::StatusOr<int64_t> VersionNumber(const std::string& name, absl::string_view field) {
  STAMINA_ASSIGN_OR_RETURN(std::vector<std::string> parts,
                           Segments(name, "versions", field));
  int64_t version = 0;
  if (!absl::SimpleAtoi(parts[3], &version)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": bad version number"));
  }
  return version;
}

}  // namespace

GrpcJobSource::GrpcJobSource(Options options)
    : options_(std::move(options)),
      stub_(internal::v1::WorkQueue::NewStub(options_.channel)) {}

absl::StatusOr<std::unique_ptr<GrpcJobSource>> GrpcJobSource::Create(Options options) {
  if (options.channel == nullptr) return absl::InvalidArgumentError("channel: required");
  if (options.internal_token.empty()) {
    return absl::InvalidArgumentError("internal_token: required");
  }
  if (options.chunk_bytes <= 0) {
    return absl::InvalidArgumentError("chunk_bytes: must be positive");
  }
  return std::unique_ptr<GrpcJobSource>(new GrpcJobSource(std::move(options)));
}

std::unique_ptr<grpc::ClientContext> GrpcJobSource::Context(
    absl::Duration timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + options_.internal_token);
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

absl::StatusOr<TrainingTask> GrpcJobSource::FromProto(
    const internal::v1::TrainingTask& in) {
  STAMINA_ASSIGN_OR_RETURN(std::vector<std::string> job,
                           Segments(in.job(), "jobs", "task.job"));
  STAMINA_ASSIGN_OR_RETURN(std::vector<std::string> concept_name,
                           Segments(in.concept(), "concepts", "task.concept"));
  TrainingTask task{.model_id = job[1],
                    .job_id = job[3],
                    .attempt = in.attempt(),
                    .base_model_digest = in.base_model_digest(),
                    .concept_id = concept_name[3],
                    .token = in.token(),
                    .settings = in.settings()};
  constexpr absl::string_view kBasePrefix = "baseModels/";
  task.base_model_id = absl::StartsWith(in.base_model(), kBasePrefix)
                           ? in.base_model().substr(kBasePrefix.size())
                           : in.base_model();
  if (!in.parent_version().empty()) {
    STAMINA_ASSIGN_OR_RETURN(task.parent_version,
                             VersionNumber(in.parent_version(), "task.parent_version"));
  }
  for (const auto& ref : in.parent_adapters()) {
    STAMINA_ASSIGN_OR_RETURN(int64_t version,
                             VersionNumber(ref.version(), "task.parent_adapters.version"));
    std::vector<std::string> concept_parts = absl::StrSplit(ref.concept(), '/');
    task.parent_adapters.push_back({.version = version,
                                    .concept_id = concept_parts.back(),
                                    .token = ref.token(),
                                    .adapter_digest = ref.adapter_digest()});
  }
  task.caption_templates.assign(in.caption_templates().begin(),
                                in.caption_templates().end());
  for (const auto& image : in.images()) {
    task.images.push_back({.digest = image.digest(), .caption = image.caption()});
  }
  return task;
}

absl::StatusOr<std::optional<Lease>> GrpcJobSource::LeaseJob(const std::string& worker) {
  internal::v1::LeaseJobRequest request;
  // "<name>/<slot>" as the Worker names its slots.
  const size_t slash = worker.rfind('/');
  int slot = 0;
  if (slash != std::string::npos && absl::SimpleAtoi(worker.substr(slash + 1), &slot)) {
    request.set_worker(worker.substr(0, slash));
    request.set_slot(slot);
  } else {
    request.set_worker(worker);
  }
  for (const auto& base : options_.base_models) request.add_base_models(base);
  if (!options_.device.device.empty()) rpc::ToProto(options_.device, request.mutable_device());
  internal::v1::LeaseJobResponse response;
  STAMINA_RETURN_IF_ERROR(FromGrpc(
      stub_->LeaseJob(Context(options_.call_timeout).get(), request, &response)));
  if (!response.has_lease()) return std::optional<Lease>();
  const internal::v1::Lease& lease = response.lease();
  STAMINA_ASSIGN_OR_RETURN(TrainingTask task, FromProto(lease.task()));
  absl::Duration interval = absl::Seconds(lease.heartbeat_interval().seconds()) +
                            absl::Nanoseconds(lease.heartbeat_interval().nanos());
  if (interval <= absl::ZeroDuration()) interval = absl::Seconds(10);
  return std::optional<Lease>(Lease{.lease_id = lease.lease_id(),
                                    .expire_time = FromTimestamp(lease.expire_time()),
                                    .heartbeat_interval = interval,
                                    .task = std::move(task)});
}

absl::StatusOr<HeartbeatReply> GrpcJobSource::Heartbeat(
    const std::string& lease_id, const storage::JobProgressRecord& progress) {
  internal::v1::HeartbeatRequest request;
  request.set_lease_id(lease_id);
  v1::JobProgress* out = request.mutable_progress();
  out->set_phase(static_cast<v1::JobPhase>(progress.phase));
  out->set_step(progress.step);
  out->set_total_steps(progress.total_steps);
  out->set_loss(progress.loss);
  request.set_training_seconds(progress.training_seconds);
  internal::v1::HeartbeatResponse response;
  STAMINA_RETURN_IF_ERROR(FromGrpc(
      stub_->Heartbeat(Context(options_.call_timeout).get(), request, &response)));
  return HeartbeatReply{.expire_time = FromTimestamp(response.expire_time()),
                        .cancel_requested = response.cancel_requested()};
}

absl::StatusOr<std::string> GrpcJobSource::ReadInput(const std::string& lease_id,
                                                     const std::string& digest) {
  internal::v1::FetchBlobRequest request;
  request.set_lease_id(lease_id);
  request.set_digest(digest);
  auto context = Context(options_.transfer_timeout);
  auto reader = stub_->FetchBlob(context.get(), request);
  std::string bytes;
  internal::v1::FetchBlobResponse chunk;
  while (reader->Read(&chunk)) {
    if (chunk.size_bytes() > 0) bytes.reserve(static_cast<size_t>(chunk.size_bytes()));
    bytes += chunk.chunk();
  }
  STAMINA_RETURN_IF_ERROR(FromGrpc(reader->Finish()));
  if (storage::Sha256Hex(bytes) != digest) {
    return absl::DataLossError(absl::StrCat("input ", digest.substr(0, 12),
                                            "... arrived with other bytes"));
  }
  return bytes;
}

absl::StatusOr<std::string> GrpcJobSource::StoreArtifact(const std::string& lease_id,
                                                         const std::string& bytes) {
  internal::v1::UploadArtifactResponse response;
  auto context = Context(options_.transfer_timeout);
  auto writer = stub_->UploadArtifact(context.get(), &response);
  internal::v1::UploadArtifactRequest message;
  message.mutable_header()->set_lease_id(lease_id);
  message.mutable_header()->set_size_bytes(static_cast<int64_t>(bytes.size()));
  message.mutable_header()->set_sha256(storage::Sha256Hex(bytes));
  bool open = writer->Write(message);
  for (size_t offset = 0; open && offset < bytes.size();
       offset += static_cast<size_t>(options_.chunk_bytes)) {
    message.Clear();
    message.set_chunk(bytes.substr(offset, static_cast<size_t>(options_.chunk_bytes)));
    open = writer->Write(message);
  }
  if (open) writer->WritesDone();
  STAMINA_RETURN_IF_ERROR(FromGrpc(writer->Finish()));
  return response.digest();
}

absl::StatusOr<int64_t> GrpcJobSource::Complete(const std::string& lease_id,
                                                const std::string& adapter_digest,
                                                const v1::TrainingMetrics& metrics) {
  internal::v1::CompleteJobRequest request;
  request.set_lease_id(lease_id);
  request.set_adapter_digest(adapter_digest);
  *request.mutable_metrics() = metrics;
  internal::v1::CompleteJobResponse response;
  STAMINA_RETURN_IF_ERROR(FromGrpc(
      stub_->CompleteJob(Context(options_.call_timeout).get(), request, &response)));
  return VersionNumber(response.version(), "version");
}

absl::StatusOr<storage::JobState> GrpcJobSource::Fail(
    const std::string& lease_id, const storage::JobErrorRecord& error, bool cancelled) {
  internal::v1::FailJobRequest request;
  request.set_lease_id(lease_id);
  request.mutable_error()->set_code(error.code);
  request.mutable_error()->set_message(error.message.substr(0, 2000));
  request.mutable_error()->set_retryable(error.retryable);
  request.set_cancelled(cancelled);
  internal::v1::FailJobResponse response;
  STAMINA_RETURN_IF_ERROR(FromGrpc(
      stub_->FailJob(Context(options_.call_timeout).get(), request, &response)));
  return static_cast<storage::JobState>(response.state());
}

}  // namespace stamina::worker
