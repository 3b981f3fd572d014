#include "worker/training_executor.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "core/adapters/adapter_artifact.h"
#include "core/adapters/concept_drift.h"
#include "core/training/concept_trainer.h"
#include "worker/drift_probes.h"
#include "worker/model_builder.h"
#include "worker/training_inputs.h"
#include "worker/training_request.h"

namespace stamina::worker {
namespace {

bool Retryable(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

// One job on one slot: the phases, the heartbeats and the ending.
class JobRun {
 public:
  JobRun(const TrainingExecutorOptions& options, const BaseModelLibrary& library, JobSource& source,
         const Lease& lease, const std::atomic<bool>& shutdown)
      : options_(options),
        library_(library),
        source_(source),
        lease_(lease),
        task_(lease.task),
        shutdown_(shutdown),
        interval_(std::min(options.min_heartbeat_interval, lease.heartbeat_interval)),
        start_(options.clock->Now()) {}

  absl::StatusOr<int64_t> Execute() {
    // The work thread beats at phase changes and training steps; a thread
    // of the lease's own keeps it alive through long stretches without
    // either (loading a large base model, folding a long lineage, reading
    // many images), beating whenever `heartbeat_interval` passed since the
    // last beat.
    absl::Notification done;
    std::thread keepalive([this, &done] {
      const absl::Duration wake = std::min(absl::Milliseconds(50), lease_.heartbeat_interval);
      while (!done.WaitForNotificationWithTimeout(wake)) KeepAlive();
    });
    absl::StatusOr<int64_t> result = Work();
    done.Notify();
    keepalive.join();
    return Finish(std::move(result));
  }

 private:
  // Sends a heartbeat when `force`d or due, and learns of cancellation and
  // lost leases. Other errors are transient: the next beat retries while the
  // lease still has time.
  void Beat(bool force) { BeatIfDue(force ? absl::ZeroDuration() : interval_); }

  // Never beats once the work thread commits: a beat landing after
  // Complete would find the lease gone and report the committed job lost.
  void KeepAlive() {
    absl::MutexLock lock(&keepalive_mu_);
    if (!committing_ && lease_.heartbeat_interval > absl::ZeroDuration()) {
      BeatIfDue(lease_.heartbeat_interval);
    }
  }

  void BeatIfDue(absl::Duration due_after) {
    if (shutdown_.load()) stop_ = true;
    storage::JobProgressRecord progress;
    {
      absl::MutexLock lock(&mu_);
      const absl::Time now = options_.clock->Now();
      if (due_after > absl::ZeroDuration() && now - last_beat_ < due_after) return;
      last_beat_ = now;
      progress = progress_;
    }
    absl::StatusOr<HeartbeatReply> reply = source_.Heartbeat(lease_.lease_id, progress);
    if (absl::IsAborted(reply.status())) {
      lost_ = true;
      stop_ = true;
    } else if (reply.ok() && reply->cancel_requested) {
      cancelled_ = true;
      stop_ = true;
    }
  }

  // Starts `phase` with a heartbeat; CANCELLED when the job must stop.
  absl::Status Enter(storage::JobPhase phase) {
    {
      absl::MutexLock lock(&mu_);
      progress_.phase = phase;
    }
    Beat(/*force=*/true);
    if (stop_.load()) {
      return absl::CancelledError(absl::StrCat("stopped before phase ", static_cast<int>(phase)));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> Work() {
    STAMINA_RETURN_IF_ERROR(Enter(storage::JobPhase::kPreparing));
    STAMINA_ASSIGN_OR_RETURN(core::DiffusionModel base,
                             library_.Load(task_.base_model_id, task_.base_model_digest));
    const std::vector<std::string> targets(task_.settings.target_modules().begin(),
                                           task_.settings.target_modules().end());
    // One parent adapter in memory at a time, however long the lineage.
    STAMINA_ASSIGN_OR_RETURN(
        FoldedModel parent,
        FoldLineage(
            std::move(base), task_.parent_adapters.size(),
            [&](size_t i) {
              return source_.ReadInput(lease_.lease_id, task_.parent_adapters[i].adapter_digest);
            },
            targets, &stop_));
    const int side = static_cast<int>(parent.model.config.vae.sample_size);
    std::vector<core::Image> images;
    for (size_t i = 0; i < task_.images.size(); ++i) {
      STAMINA_ASSIGN_OR_RETURN(std::string bytes,
                               source_.ReadInput(lease_.lease_id, task_.images[i].digest));
      absl::StatusOr<core::Image> image = PrepareTrainingImage(bytes, side);
      if (!image.ok()) {
        return Annotate(image.status(), absl::StrCat("training image ", i));
      }
      images.push_back(*std::move(image));
    }
    STAMINA_ASSIGN_OR_RETURN(core::ConceptTrainingRequest request,
                             TrainingRequestFor(task_, std::move(images)));
    request.training.micro_batch_size = options_.micro_batch_size;

    STAMINA_RETURN_IF_ERROR(Enter(storage::JobPhase::kTraining));
    {
      absl::MutexLock lock(&mu_);
      progress_.total_steps = request.training.steps;
    }
    STAMINA_ASSIGN_OR_RETURN(core::ConceptTrainingResult result,
                             core::TrainConcept(
                                 parent.model, parent.state, request,
                                 [this](const core::ConceptTrainingProgress& p) {
                                   {
                                     absl::MutexLock lock(&mu_);
                                     progress_.step = p.step;
                                     progress_.total_steps = p.total_steps;
                                     progress_.loss = static_cast<float>(p.loss);
                                     progress_.training_seconds = p.seconds;
                                   }
                                   Beat(/*force=*/false);
                                 },
                                 &stop_));

    STAMINA_RETURN_IF_ERROR(Enter(storage::JobPhase::kFolding));
    // The artifact must replay onto its parent exactly as the sampler and the
    // next job will replay it.
    STAMINA_RETURN_IF_ERROR(core::FoldAdapterArtifact(result.artifact, parent.model, parent.state));
    // parent.model is now the new version: its drift samples go into the
    // artifact, so they are written before it is serialized.
    v1::TrainingMetrics drift;
    if (absl::Status measured = MeasureDrift(parent, request.training.steps,
                                             request.training.batch_size, result.artifact, drift);
        !measured.ok()) {
      // The metric watches the version; it must not cost the user the
      // version itself. Only a cancellation ends the job here.
      if (absl::IsCancelled(measured) || stop_.load()) return measured;
      Log(absl::StrCat("forgetting metric skipped: ", measured.ToString()));
      result.artifact.drift_reference.reset();
      drift.Clear();
    }
    STAMINA_ASSIGN_OR_RETURN(std::string bytes, core::SerializeAdapterArtifact(result.artifact));

    STAMINA_RETURN_IF_ERROR(Enter(storage::JobPhase::kCommitting));
    {
      absl::MutexLock lock(&keepalive_mu_);
      committing_ = true;
    }
    STAMINA_ASSIGN_OR_RETURN(std::string digest, source_.StoreArtifact(lease_.lease_id, bytes));
    const double seconds = absl::ToDoubleSeconds(options_.clock->Now() - start_);
    committed_ = true;
    v1::TrainingMetrics metrics = MetricsFor(result, request.training.steps, seconds);
    metrics.MergeFrom(drift);
    return source_.Complete(lease_.lease_id, digest, metrics);
  }

  // The forgetting metric (worker/drift_probes.h): draws the new concept's
  // reference samples into `artifact` and measures the drift of the earlier
  // concepts the budget affords, into `drift`.
  absl::Status MeasureDrift(FoldedModel& version, int training_steps, int batch_size,
                            core::AdapterArtifact& artifact, v1::TrainingMetrics& drift) {
    const absl::Time start = options_.clock->Now();
    const core::DriftProbeSettings settings;
    const std::vector<std::string> prompts =
        core::DriftPrompts(task_.token, task_.caption_templates);
    std::vector<bool> has_reference;  // parent adapters, in lineage order
    for (const auto& reference : version.drift_references) {
      has_reference.push_back(reference.has_value());
    }
    const DriftChoice choice = ChooseDrift({.training_steps = training_steps,
                                            .batch_size = batch_size,
                                            .probe_images = 2 * settings.images_per_prompt,
                                            .probe_steps = settings.steps},
                                           options_.drift_budget, has_reference);
    if (!choice.reference) return absl::OkStatus();
    STAMINA_ASSIGN_OR_RETURN(artifact.drift_reference,
                             core::SampleDriftReference(version.model, prompts, settings, &stop_));
    Beat(/*force=*/false);
    for (size_t index : choice.measured) {
      const core::DriftReference& reference = *version.drift_references[index];
      STAMINA_ASSIGN_OR_RETURN(const double value,
                               core::MeasureDrift(version.model, reference, &stop_));
      const ParentAdapter& earlier = task_.parent_adapters[index];
      v1::ConceptDrift& entry = *drift.add_concept_drift();
      entry.set_concept(absl::StrCat("models/", task_.model_id, "/concepts/", earlier.concept_id));
      entry.set_token(earlier.token);
      entry.set_learned_version(
          absl::StrCat("models/", task_.model_id, "/versions/", earlier.version));
      entry.set_drift(value);
      entry.set_images(static_cast<int32_t>(reference.images.size()));
      Beat(/*force=*/false);
    }
    drift.set_drift_seconds(absl::ToDoubleSeconds(options_.clock->Now() - start));
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> Finish(absl::StatusOr<int64_t> result) {
    if (lost_ || absl::IsAborted(result.status())) {
      Log("lease lost; the work is dropped");
      return absl::AbortedError(
          absl::StrCat("job ", task_.job_id, ": lease lost",
                       result.ok() ? "" : absl::StrCat(" (", result.status().message(), ")")));
    }
    if (result.ok()) {
      Log(absl::StrCat("succeeded: version ", *result));
      return result;
    }
    if (committed_) {  // Complete ended the job (e.g. CANCELLED meanwhile)
      Log(absl::StrCat("ended at commit: ", result.status().ToString()));
      return result;
    }
    storage::JobErrorRecord error{.code = static_cast<int>(result.status().code()),
                                  .message = std::string(result.status().message()),
                                  .retryable = Retryable(result.status().code())};
    absl::Status outcome = result.status();
    if (cancelled_) {
      outcome = absl::CancelledError(absl::StrCat("job ", task_.job_id, " cancelled"));
    } else if (shutdown_.load()) {
      error = {.code = static_cast<int>(absl::StatusCode::kUnavailable),
               .message = "the worker shut down; the job is re-queued",
               .retryable = true};
      outcome = absl::UnavailableError(error.message);
    }
    absl::StatusOr<storage::JobState> state = source_.Fail(lease_.lease_id, error, cancelled_);
    if (absl::IsAborted(state.status())) {
      return absl::AbortedError(absl::StrCat("job ", task_.job_id, ": lease lost"));
    }
    Log(absl::StrCat("ended: ", outcome.ToString(), " -> state ",
                     state.ok() ? static_cast<int>(*state) : -1));
    return outcome;
  }

  void Log(const std::string& line) const {
    if (options_.log) {
      options_.log(absl::StrCat("job ", task_.model_id, "/", task_.job_id, " (attempt ",
                                task_.attempt, "): ", line));
    }
  }

  const TrainingExecutorOptions& options_;
  const BaseModelLibrary& library_;
  JobSource& source_;
  const Lease& lease_;
  const TrainingTask& task_;
  const std::atomic<bool>& shutdown_;
  const absl::Duration interval_;
  const absl::Time start_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> lost_{false};
  bool committed_ = false;
  absl::Mutex keepalive_mu_;
  bool committing_ ABSL_GUARDED_BY(keepalive_mu_) = false;
  absl::Mutex mu_;  // the beats of the work and keep-alive threads
  absl::Time last_beat_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  storage::JobProgressRecord progress_ ABSL_GUARDED_BY(mu_);
};

class TrainingExecutor final : public JobExecutor {
 public:
  TrainingExecutor(TrainingExecutorOptions options, std::unique_ptr<BaseModelLibrary> library)
      : options_(std::move(options)), library_(std::move(library)) {}

  absl::StatusOr<int64_t> Run(JobSource& source, const Lease& lease,
                              const std::atomic<bool>& shutdown) override {
    return JobRun(options_, *library_, source, lease, shutdown).Execute();
  }

 private:
  const TrainingExecutorOptions options_;
  const std::unique_ptr<BaseModelLibrary> library_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<JobExecutor>> NewTrainingExecutor(TrainingExecutorOptions options) {
  if (options.clock == nullptr) return absl::InvalidArgumentError("clock: required");
  if (options.base_models.empty()) {
    return absl::InvalidArgumentError("base_models: at least one");
  }
  if (options.micro_batch_size < 0) {
    return absl::InvalidArgumentError("micro_batch_size must be >= 0");
  }
  STAMINA_ASSIGN_OR_RETURN(std::unique_ptr<BaseModelLibrary> library,
                           BaseModelLibrary::Create(options.base_models, options.device));
  return std::unique_ptr<JobExecutor>(new TrainingExecutor(std::move(options), std::move(library)));
}

}  // namespace stamina::worker
