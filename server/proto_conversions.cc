#include "server/proto_conversions.h"

#include "rpc/resource_names.h"

namespace stamina::server {

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  google::protobuf::Timestamp ts;
  const int64_t micros = absl::ToUnixMicros(time);
  ts.set_seconds(micros / 1000000);
  ts.set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
  if (ts.nanos() < 0) {
    ts.set_seconds(ts.seconds() - 1);
    ts.set_nanos(ts.nanos() + 1000000000);
  }
  return ts;
}

v1::Model ToProto(const storage::ModelRecord& model) {
  v1::Model out;
  out.set_name(rpc::FormatModelName(model.id));
  out.set_display_name(model.display_name);
  out.set_base_model(rpc::FormatBaseModelName(model.base_model_id));
  out.set_base_model_digest(model.base_digest);
  if (model.head_version.has_value()) {
    out.set_head_version(rpc::FormatVersionName(model.id, *model.head_version));
  }
  out.set_version_count(model.version_count);
  out.set_concept_count(model.concept_count);
  if (!model.failed_job_id.empty()) {
    out.set_blocking_job(rpc::FormatJobName(model.id, model.failed_job_id));
  }
  out.set_webhook_url(model.webhook_url);
  out.set_forked_from(model.forked_from);
  *out.mutable_create_time() = ToTimestamp(model.create_time);
  *out.mutable_update_time() = ToTimestamp(model.update_time);
  return out;
}

v1::Concept ToProto(const storage::ConceptRecord& c) {
  v1::Concept out;
  out.set_name(rpc::FormatConceptName(c.model_id, c.id));
  out.set_token(c.token);
  out.set_display_name(c.display_name);
  for (const auto& t : c.caption_templates) out.add_caption_templates(t);
  out.set_state(static_cast<v1::ConceptState>(c.state));
  out.set_image_count(c.image_count);
  *out.mutable_create_time() = ToTimestamp(c.create_time);
  return out;
}

v1::Image ToProto(const storage::ImageRecord& image,
                  const storage::ConceptRecord& owner) {
  v1::Image out;
  out.set_name(rpc::FormatImageName(owner.model_id, owner.id, image.digest));
  out.set_sha256(image.digest);
  out.set_format(static_cast<v1::ImageFormat>(image.format));
  out.set_width(image.width);
  out.set_height(image.height);
  out.set_size_bytes(image.size_bytes);
  out.set_filename(image.filename);
  out.set_original_filename(image.original_filename);
  out.set_caption(image.caption);
  *out.mutable_create_time() = ToTimestamp(image.create_time);
  return out;
}

v1::ModelVersion ToProto(const storage::VersionRecord& v) {
  v1::ModelVersion out;
  out.set_name(rpc::FormatVersionName(v.model_id, v.version));
  if (v.parent_version.has_value()) {
    out.set_parent_version(rpc::FormatVersionName(v.model_id, *v.parent_version));
  }
  out.set_concept(rpc::FormatConceptName(v.model_id, v.concept_id));
  out.set_token(v.token);
  if (!v.job_id.empty()) out.set_job(rpc::FormatJobName(v.model_id, v.job_id));
  out.set_adapter_digest(v.adapter_digest);
  out.mutable_settings()->ParseFromString(v.settings);
  out.mutable_metrics()->ParseFromString(v.metrics);
  out.set_concept_count(v.depth);
  *out.mutable_create_time() = ToTimestamp(v.create_time);
  if (!v.erasure_id.empty()) out.set_erasure(rpc::FormatErasureName(v.model_id, v.erasure_id));
  if (v.replay_of_version.has_value()) {
    out.set_replay_of(rpc::FormatVersionName(v.model_id, *v.replay_of_version));
  }
  return out;
}

v1::Job ToProto(const storage::JobRecord& job) {
  v1::Job out;
  out.set_name(rpc::FormatJobName(job.model_id, job.id));
  out.set_concept(rpc::FormatConceptName(job.model_id, job.concept_id));
  if (job.parent_version.has_value()) {
    out.set_parent_version(
        rpc::FormatVersionName(job.model_id, *job.parent_version));
  }
  out.mutable_settings()->ParseFromString(job.settings);
  out.set_state(static_cast<v1::JobState>(job.state));
  v1::JobProgress* progress = out.mutable_progress();
  if (job.state == storage::JobState::kRunning) {
    progress->set_phase(static_cast<v1::JobPhase>(job.progress.phase));
  }
  out.set_webhook_url(job.webhook_url);
  if (!job.erasure_id.empty())
    out.set_erasure(rpc::FormatErasureName(job.model_id, job.erasure_id));
  if (job.replay_of_version.has_value()) {
    out.set_replay_of(rpc::FormatVersionName(job.model_id, *job.replay_of_version));
  }
  if (job.state == storage::JobState::kQueued) {
    progress->set_queue_position(static_cast<int32_t>(job.open_jobs_ahead));
    if (!job.blocked_by_job_id.empty()) {
      out.set_blocked_by(rpc::FormatJobName(job.model_id, job.blocked_by_job_id));
    }
  }
  if (job.state == storage::JobState::kRunning && job.progress.step > 0 &&
      job.progress.total_steps > job.progress.step &&
      job.progress.training_seconds > 0) {
    // Remaining steps at the rate so far (folding and committing are short).
    const double seconds = job.progress.training_seconds / job.progress.step *
                           (job.progress.total_steps - job.progress.step);
    progress->mutable_eta()->set_seconds(static_cast<int64_t>(seconds));
  }
  progress->set_step(job.progress.step);
  progress->set_total_steps(job.progress.total_steps);
  progress->set_loss(job.progress.loss);
  if (job.state == storage::JobState::kSucceeded) {
    progress->set_fraction_done(1);
  } else if (job.progress.total_steps > 0) {
    progress->set_fraction_done(static_cast<float>(job.progress.step) /
                                static_cast<float>(job.progress.total_steps));
  }
  if (job.error.code != 0) {
    out.mutable_error()->set_code(job.error.code);
    out.mutable_error()->set_message(job.error.message);
    out.mutable_error()->set_retryable(job.error.retryable);
  }
  if (job.result_version.has_value()) {
    out.set_result_version(
        rpc::FormatVersionName(job.model_id, *job.result_version));
  }
  out.set_attempt(job.attempt);
  out.set_cancel_requested(job.cancel_requested);
  out.set_request_id(job.request_id);
  out.set_training_seconds(job.progress.training_seconds);
  *out.mutable_create_time() = ToTimestamp(job.create_time);
  if (job.start_time.has_value()) {
    *out.mutable_start_time() = ToTimestamp(*job.start_time);
  }
  if (job.end_time.has_value()) {
    *out.mutable_end_time() = ToTimestamp(*job.end_time);
  }
  return out;
}

v1::Lineage ToProto(const storage::ModelRecord& model,
                    const std::vector<storage::LineageStep>& steps) {
  v1::Lineage out;
  if (!steps.empty()) {
    out.set_version(
        rpc::FormatVersionName(model.id, steps.back().version.version));
  }
  out.set_base_model(rpc::FormatBaseModelName(model.base_model_id));
  out.set_base_model_digest(model.base_digest);
  out.set_forked_from(model.forked_from);
  int64_t position = 1;
  for (const auto& step : steps) {
    const storage::VersionRecord& v = step.version;
    v1::LineageEntry* entry = out.add_entries();
    entry->set_position(position++);
    entry->set_version(rpc::FormatVersionName(v.model_id, v.version));
    entry->set_concept(rpc::FormatConceptName(v.model_id, v.concept_id));
    entry->set_token(v.token);
    for (const auto& d : step.image_digests) entry->add_image_digests(d);
    entry->set_adapter_digest(v.adapter_digest);
    entry->mutable_settings()->ParseFromString(v.settings);
    entry->mutable_metrics()->ParseFromString(v.metrics);
    if (!v.job_id.empty())
      entry->set_job(rpc::FormatJobName(v.model_id, v.job_id));
    *entry->mutable_create_time() = ToTimestamp(v.create_time);
    if (!v.erasure_id.empty()) {
      entry->set_erasure(rpc::FormatErasureName(v.model_id, v.erasure_id));
    }
    if (v.replay_of_version.has_value()) {
      entry->set_replay_of(rpc::FormatVersionName(v.model_id, *v.replay_of_version));
    }
  }
  return out;
}

v1::ErasureReport ToProto(const storage::ErasureReport& report) {
  v1::ErasureReport out;
  for (const auto& m : report.models) out.add_models(m);
  for (const auto& c : report.concepts) out.add_concepts(c);
  for (const auto& v : report.versions) out.add_versions(v);
  for (const auto& j : report.jobs) out.add_jobs(j);
  out.set_image_references(report.image_references);
  for (const auto& d : report.released_blobs) out.add_deleted_blob_digests(d);
  out.set_freed_bytes(report.released_bytes);
  return out;
}

v1::Erasure ToProto(const storage::ErasureRecord& e) {
  v1::Erasure out;
  out.set_name(rpc::FormatErasureName(e.model_id, e.id));
  out.set_concept(rpc::FormatConceptName(e.model_id, e.concept_id));
  out.set_token(e.token);
  out.set_mode(static_cast<v1::ErasureMode>(e.mode));
  out.set_state(static_cast<v1::ErasureState>(e.state));
  out.set_requested_by(e.requested_by);
  *out.mutable_create_time() = ToTimestamp(e.create_time);
  if (e.restart_version.has_value()) {
    out.set_restart_version(rpc::FormatVersionName(e.model_id, *e.restart_version));
  }
  for (const storage::ErasedVersionRecord& v : e.erased_versions) {
    v1::ErasedVersion* erased = out.add_erased_versions();
    erased->set_version(rpc::FormatVersionName(e.model_id, v.version));
    if (v.parent_version.has_value()) {
      erased->set_parent_version(rpc::FormatVersionName(e.model_id, *v.parent_version));
    }
    erased->set_concept(rpc::FormatConceptName(e.model_id, v.concept_id));
    erased->set_token(v.token);
    erased->set_concept_count(v.depth);
    *erased->mutable_create_time() = ToTimestamp(v.create_time);
  }
  for (const std::string& job : e.replay_job_ids) {
    out.add_replay_jobs(rpc::FormatJobName(e.model_id, job));
  }
  out.set_replays_succeeded(e.replay_succeeded);
  out.set_image_references(e.image_references);
  out.set_freed_bytes(e.released_bytes);
  if (!e.proof_prompt.empty()) {
    v1::ErasureProof* proof = out.mutable_proof();
    proof->set_prompt(e.proof_prompt);
    proof->set_drift_before(e.drift_before.value_or(0));
    if (e.drift_after.has_value() && e.proof_version.has_value()) {
      proof->set_drift_after(*e.drift_after);
      proof->set_version(rpc::FormatVersionName(e.model_id, *e.proof_version));
    }
  }
  return out;
}

}  // namespace stamina::server
