// TrainingService commands: train and jobs list/get/cancel/retry/watch.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/command_groups.h"
#include "cli/format.h"
#include "cli/progress_bar.h"
#include "common/status_macros.h"
#include "google/protobuf/text_format.h"

namespace stamina::cli {
namespace {

absl::StatusOr<v1::ContextPreservation> ParseContext(absl::string_view text) {
  const std::string context = absl::AsciiStrToLower(text);
  if (context.empty()) return v1::CONTEXT_PRESERVATION_UNSPECIFIED;
  if (context == "none") return v1::CONTEXT_PRESERVATION_NONE;
  if (context == "project") return v1::CONTEXT_PRESERVATION_PROJECT;
  if (context == "penalize") return v1::CONTEXT_PRESERVATION_PENALIZE;
  return absl::InvalidArgumentError(
      absl::StrCat("--context: \"", text, "\" is not none, project or penalize"));
}

// "flip,shift", "flip", "shift" or "none"; empty: the server's default.
absl::StatusOr<std::optional<v1::Augmentation>> ParseAugment(absl::string_view text) {
  if (text.empty()) return std::nullopt;
  v1::Augmentation augmentation;
  augmentation.set_flip(v1::AUGMENTATION_SWITCH_OFF);
  augmentation.set_shift(v1::AUGMENTATION_SWITCH_OFF);
  if (absl::AsciiStrToLower(text) == "none") return augmentation;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    const std::string name = absl::AsciiStrToLower(part);
    if (name == "flip") {
      augmentation.set_flip(v1::AUGMENTATION_SWITCH_ON);
    } else if (name == "shift") {
      augmentation.set_shift(v1::AUGMENTATION_SWITCH_ON);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "--augment: \"", text, "\" is not none or a comma-separated list of flip, shift"));
    }
  }
  return augmentation;
}

absl::StatusOr<v1::TrainingMethod> ParseMethod(absl::string_view text) {
  const std::string method = absl::AsciiStrToLower(text);
  if (method.empty()) return v1::TRAINING_METHOD_UNSPECIFIED;
  if (method == "stamina") return v1::TRAINING_METHOD_STAMINA;
  if (method == "clora") return v1::TRAINING_METHOD_CLORA;
  if (method == "lora") return v1::TRAINING_METHOD_LORA;
  return absl::InvalidArgumentError(
      absl::StrCat("--method: \"", text, "\" is not stamina, clora or lora"));
}

std::string JobName(const Operands& operands) {
  return ChildName(operands[0], "jobs", operands[1]);
}

std::string OrDash(const std::string& text) {
  return text.empty() ? "-" : text;
}

void PrintJob(std::ostream& out, const v1::Job& job) {
  std::vector<std::vector<std::string>> rows = {
      {"name", job.name()},
      {"concept", job.concept()},
      {"state", JobStateName(job.state())},
      {"progress", JobProgressLabel(job)},
      {"attempt", absl::StrCat(job.attempt())},
      {"settings", absl::StrCat(MethodName(job.settings().method()), ", ",
                                job.settings().steps(), " steps, seed ",
                                job.settings().seed())},
      {"parent_version", OrDash(job.parent_version())},
      {"result_version", OrDash(job.result_version())},
      {"request_id", OrDash(job.request_id())},
      {"create_time", FormatTimestamp(job.create_time())},
      {"start_time", FormatTimestamp(job.start_time())},
      {"end_time", FormatTimestamp(job.end_time())}};
  if (job.has_error()) {
    rows.push_back(
        {"error",
         absl::StrCat(absl::StatusCodeToString(
                          static_cast<absl::StatusCode>(job.error().code())),
                      ": ", job.error().message(),
                      job.error().retryable() ? " (retryable)" : "")});
  }
  PrintTable(out, {"field", "value"}, rows);
}

}  // namespace

// Follows the job until its stream ends; the exit code says how it ended.
absl::StatusOr<int> WatchJob(Session& session, const std::string& job_name) {
  ProgressBar bar(session.err(),
                  {.tty = session.options().progress_tty,
                   .min_interval = session.options().progress_interval,
                   .clock = session.options().clock});
  v1::WatchJobRequest request;
  request.set_name(job_name);
  request.set_min_interval_ms(session.options().watch_interval_ms);
  auto context = session.NewContext(/*deadline=*/false);
  auto reader = session.training().WatchJob(context.get(), request);
  v1::WatchJobResponse update;
  v1::Job job;
  bool seen = false;
  while (reader->Read(&update)) {
    job = update.job();
    seen = true;
    bar.Update(JobFraction(job), JobProgressLabel(job));
  }
  const absl::Status status = FromGrpc(reader->Finish());
  if (seen) bar.Finish(JobFraction(job), JobProgressLabel(job));
  STAMINA_RETURN_IF_ERROR(status);
  session.out() << "job " << job_name << " " << JobStateName(job.state());
  switch (job.state()) {
    case v1::JOB_STATE_SUCCEEDED:
      session.out() << ": " << job.result_version() << '\n';
      return kExitOk;
    case v1::JOB_STATE_FAILED:
      session.out() << ": "
                    << absl::StatusCodeToString(
                           static_cast<absl::StatusCode>(job.error().code()))
                    << ": " << job.error().message()
                    << (job.error().retryable()
                            ? " (retryable; try `stamina jobs retry`)"
                            : "")
                    << '\n';
      return kExitJobFailed;
    case v1::JOB_STATE_CANCELLED:
      session.out() << '\n';
      return kExitJobCancelled;
    default:
      session.out() << " (the stream ended early; watch again)\n";
      return kExitJobUnfinished;
  }
}

absl::StatusOr<int> Train(Session& session, const Operands& operands) {
  const CommandFlags& flags = session.flags();
  v1::TrainConceptRequest request;
  request.set_parent(ModelName(operands[0]));
  request.set_concept(ChildName(operands[0], "concepts", operands[1]));
  request.set_request_id(flags.request_id);
  request.set_webhook_url(flags.webhook_url);
  STAMINA_ASSIGN_OR_RETURN(v1::TrainingMethod method,
                           ParseMethod(flags.method));
  request.mutable_settings()->set_method(method);
  request.mutable_settings()->set_steps(flags.steps);
  request.mutable_settings()->set_seed(flags.seed);
  STAMINA_ASSIGN_OR_RETURN(v1::ContextPreservation context, ParseContext(flags.context));
  request.mutable_settings()->set_context_preservation(context);
  request.mutable_settings()->set_token_initializer(flags.token_initializer);
  STAMINA_ASSIGN_OR_RETURN(std::optional<v1::Augmentation> augmentation,
                           ParseAugment(flags.augment));
  if (augmentation) *request.mutable_settings()->mutable_augmentation() = *augmentation;
  if (!flags.settings.empty() &&
      !google::protobuf::TextFormat::MergeFromString(flags.settings,
                                                     request.mutable_settings())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--settings: \"", flags.settings, "\" is not TrainingSettings in text format"));
  }
  v1::Job job;
  STAMINA_RETURN_IF_ERROR(FromGrpc(session.training().TrainConcept(
      session.NewContext().get(), request, &job)));
  session.out() << "job " << job.name() << " " << JobStateName(job.state())
                << " (" << MethodName(job.settings().method()) << ", "
                << job.settings().steps() << " steps, seed "
                << job.settings().seed() << ")\n";
  if (flags.no_wait) return kExitOk;
  return WatchJob(session, job.name());
}

absl::StatusOr<int> JobsList(Session& session, const Operands& operands) {
  v1::ListJobsRequest request;
  request.set_parent(operands[0] == "-" ? "models/-" : ModelName(operands[0]));
  std::vector<std::vector<std::string>> rows;
  do {
    v1::ListJobsResponse response;
    STAMINA_RETURN_IF_ERROR(FromGrpc(session.training().ListJobs(
        session.NewContext().get(), request, &response)));
    for (const v1::Job& job : response.jobs()) {
      rows.push_back({job.name(), LastSegment(job.concept()),
                      JobStateName(job.state()), JobProgressLabel(job),
                      absl::StrCat(job.attempt()),
                      OrDash(LastSegment(job.result_version())),
                      FormatTimestamp(job.create_time())});
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  PrintTable(
      session.out(),
      {"JOB", "CONCEPT", "STATE", "PROGRESS", "ATTEMPT", "VERSION", "CREATED"},
      rows);
  return kExitOk;
}

absl::StatusOr<int> JobsGet(Session& session, const Operands& operands) {
  v1::GetJobRequest request;
  request.set_name(JobName(operands));
  v1::Job job;
  STAMINA_RETURN_IF_ERROR(FromGrpc(
      session.training().GetJob(session.NewContext().get(), request, &job)));
  PrintJob(session.out(), job);
  return kExitOk;
}

absl::StatusOr<int> JobsCancel(Session& session, const Operands& operands) {
  v1::CancelJobRequest request;
  request.set_name(JobName(operands));
  v1::Job job;
  STAMINA_RETURN_IF_ERROR(FromGrpc(
      session.training().CancelJob(session.NewContext().get(), request, &job)));
  session.out() << "job " << job.name() << " " << JobStateName(job.state())
                << (job.cancel_requested() ? " (cancel requested)" : "")
                << '\n';
  return kExitOk;
}

absl::StatusOr<int> JobsRetry(Session& session, const Operands& operands) {
  v1::RetryJobRequest request;
  request.set_name(JobName(operands));
  v1::Job job;
  STAMINA_RETURN_IF_ERROR(FromGrpc(
      session.training().RetryJob(session.NewContext().get(), request, &job)));
  session.out() << "job " << job.name() << " " << JobStateName(job.state())
                << " (attempt " << job.attempt() << ")\n";
  return kExitOk;
}

absl::StatusOr<int> JobsWatch(Session& session, const Operands& operands) {
  return WatchJob(session, JobName(operands));
}

// The tenant's webhook signing secret (created on first use), or a new one.
absl::StatusOr<int> WebhooksSecret(Session& session, const Operands&) {
  std::string secret;
  if (session.flags().rotate) {
    v1::RotateWebhookSecretResponse rotated;
    STAMINA_RETURN_IF_ERROR(
        FromGrpc(session.training().RotateWebhookSecret(session.NewContext().get(), {}, &rotated)));
    secret = rotated.secret();
  } else {
    v1::WebhookSecret current;
    STAMINA_RETURN_IF_ERROR(
        FromGrpc(session.training().GetWebhookSecret(session.NewContext().get(), {}, &current)));
    secret = current.secret();
  }
  session.out() << secret << '\n';
  return kExitOk;
}

}  // namespace stamina::cli
