// File: storage/records.h
//
// The registry's domain records: plain values, independent of SQLite and of
// the gRPC API (server/ converts them to stamina.v1 messages). Enum values are
// what the schema stores and match the numbering of the stamina.v1 enums of
// the same name. Identifiers are the AIP-122 ids of docs/api.md, scoped as
// the resource names are: a model id is unique per tenant, a concept id and
// token per model.
#ifndef STAMINA_STORAGE_RECORDS_H_
#define STAMINA_STORAGE_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace stamina::storage {

// Numbering as stamina.internal.v1.ErasurePolicy: how EraseConcept treats
// a tenant's later concepts when the request leaves the mode unspecified.
enum class ErasurePolicy : int {
  kReplay = 1,    // retrain them (the default); drop allowed on request
  kDropOnly = 2,  // drop them; replay refused (it costs training time)
};

struct TenantRecord {
  std::string id;
  std::string display_name;
  absl::Time create_time;
  ErasurePolicy erasure_policy = ErasurePolicy::kReplay;
};

struct ApiKeyRecord {
  std::string id;
  std::string tenant_id;
  std::string label;
  absl::Time create_time;
  std::optional<absl::Time> expire_time;  // nullopt: never expires
  std::optional<absl::Time> revoke_time;
};

struct BaseModelRecord {
  std::string id;      // "stamina-tiny-v1"
  std::string digest;  // SHA-256 of the weights
  std::string config;  // opaque (JSON)
  absl::Time create_time;
};

struct ModelRecord {
  std::string tenant_id;
  std::string id;
  std::string display_name;
  std::string base_model_id;
  std::string base_digest;
  std::optional<int64_t> head_version;  // nullopt = the base model
  int64_t version_count = 0;
  int64_t concept_count = 0;
  // The earliest FAILED job of the model: it holds every later job until
  // RetryJob or CancelJob. "" when none.
  std::string failed_job_id;
  absl::Time create_time;
  absl::Time update_time;
  // Where the state changes of its jobs without a URL of their own go.
  std::string webhook_url;
  // ForkModel: the source version it started from, "models/{m}/versions/{v}"; "".
  std::string forked_from;
};

// Numbering as stamina.v1.ConceptState.
enum class ConceptState : int { kDraft = 1, kTraining = 2, kTrained = 3 };

struct ConceptRecord {
  std::string tenant_id;
  std::string model_id;
  std::string id;
  std::string token;
  std::string display_name;
  std::vector<std::string> caption_templates;
  ConceptState state = ConceptState::kDraft;
  int64_t image_count = 0;
  absl::Time create_time;
};

// Numbering as stamina.v1.ImageFormat.
enum class ImageFormat : int { kJpeg = 1, kPng = 2, kWebp = 3 };

// What a blob holds.
enum class BlobKind : int {
  kImage = 1,
  kAdapter = 2,
  kBaseWeights = 3,
};

struct ImageRecord {
  std::string digest;
  ImageFormat format = ImageFormat::kPng;
  int width = 0;
  int height = 0;
  int64_t size_bytes = 0;
  std::string filename;           // safe display form (server/display_text.h)
  std::string original_filename;  // as sent, C-escaped: printable ASCII only
  std::string caption;
  absl::Time create_time;
};

// Numbering as stamina.v1.JobState.
enum class JobState : int {
  kQueued = 1,
  kRunning = 2,
  kSucceeded = 3,
  kFailed = 4,
  kCancelled = 5,
};

// Numbering as stamina.v1.JobPhase; kNone when not running.
enum class JobPhase : int {
  kNone = 0,
  kPreparing = 1,
  kTraining = 2,
  kFolding = 3,
  kCommitting = 4,
};

struct JobProgressRecord {
  JobPhase phase = JobPhase::kNone;
  int32_t step = 0;
  int32_t total_steps = 0;
  float loss = 0;
  double training_seconds = 0;
};

struct JobErrorRecord {
  int code = 0;  // google.rpc.Code
  std::string message;
  bool retryable = false;
};

struct JobRecord {
  std::string id;
  std::string tenant_id;
  std::string model_id;
  std::string concept_id;
  std::string request_id;
  std::string settings;  // opaque (serialized stamina.v1.TrainingSettings)
  JobState state = JobState::kQueued;
  JobProgressRecord progress;
  JobErrorRecord error;
  int32_t attempt = 0;
  bool cancel_requested = false;
  std::string lease_owner;
  std::optional<int64_t> parent_version;
  std::optional<int64_t> result_version;
  absl::Time create_time;
  std::optional<absl::Time> start_time;
  std::optional<absl::Time> end_time;
  // Open (queued, running or failed) jobs created before this one on the
  // same model: they all start before it.
  int64_t open_jobs_ahead = 0;
  // QUEUED jobs: the earliest FAILED job created before this one on the same
  // model, which holds it until RetryJob or CancelJob; "" when none.
  std::string blocked_by_job_id;
  // Where the job's state changes are POSTed ("" = nowhere): the request's
  // URL, else its model's at creation.
  std::string webhook_url;
  // Replay jobs of an erasure: its id, and the version (now erased) whose
  // concept and settings they train again; "" and nullopt otherwise.
  std::string erasure_id;
  std::optional<int64_t> replay_of_version;
};

struct VersionRecord {
  std::string tenant_id;
  std::string model_id;
  int64_t version = 0;
  std::optional<int64_t> parent_version;  // nullopt = trained on the base
  std::string concept_id;
  std::string token;
  std::string job_id;
  std::string adapter_digest;
  std::string base_digest;
  std::string settings;  // opaque (serialized stamina.v1.TrainingSettings)
  std::string metrics;   // opaque (serialized stamina.v1.TrainingMetrics)
  int64_t depth = 0;     // number of concepts folded in
  absl::Time create_time;
  // Made by a replay job of an erasure: its id and the erased version it
  // re-created; "" and nullopt otherwise.
  std::string erasure_id;
  std::optional<int64_t> replay_of_version;
};

// One step of a version's lineage, oldest first.
struct LineageStep {
  VersionRecord version;
  std::vector<std::string> image_digests;  // sorted
};

// What a cascading delete removed.
struct ErasureReport {
  std::vector<std::string> models;    // "models/{model}"
  std::vector<std::string> concepts;  // "models/{m}/concepts/{c}"
  std::vector<std::string> versions;  // "models/{m}/versions/{v}"
  std::vector<std::string> jobs;      // "models/{m}/jobs/{j}"
  int64_t image_references = 0;
  // The blobs the deleting tenant no longer references, and their bytes: what
  // the tenant is told. Storage deduplicates across tenants, so these depend
  // only on the tenant's own rows: another tenant holding the same bytes must
  // not change the answer (it would tell who else has a photo).
  std::vector<std::string> released_blobs;
  int64_t released_bytes = 0;
  // Internal: the blobs no row of any tenant references any more, whose files
  // can be removed from the blob store. Never shown to a tenant.
  std::vector<std::string> unreferenced_blobs;
};

// Numbering as stamina.v1.ErasureMode.
enum class ErasureMode : int {
  // Later concepts are trained again, in order, on the newest version
  // without the erased one (their adapters were learned on a model that
  // contained it).
  kReplay = 1,
  // Later concepts become DRAFT again; the head is the newest version
  // without the erased one.
  kDrop = 2,
};

// Numbering as stamina.v1.ErasureState; derived from the replay jobs.
enum class ErasureState : int {
  kReplaying = 1,   // replay jobs are open
  kSucceeded = 2,   // every replay job succeeded (at once for kDrop)
  kIncomplete = 3,  // a replay job was cancelled or deleted: its concept is DRAFT
};

// A version an erasure removed: kept as a lineage record, without weights.
struct ErasedVersionRecord {
  int64_t version = 0;
  std::optional<int64_t> parent_version;
  std::string concept_id;
  std::string token;
  int64_t depth = 0;
  absl::Time create_time;
};

struct ErasureRecord {
  std::string tenant_id;
  std::string model_id;
  std::string id;
  std::string concept_id;  // no longer exists
  std::string token;
  ErasureMode mode = ErasureMode::kReplay;
  ErasureState state = ErasureState::kReplaying;
  std::string requested_by;                          // "apiKeys/{key}" or "admin"
  std::optional<int64_t> restart_version;            // nullopt: the base model
  std::vector<ErasedVersionRecord> erased_versions;  // oldest first
  // Replay jobs in the order they run; ids of jobs since deleted stay out.
  std::vector<std::string> replay_job_ids;
  int64_t replay_count = 0;
  int64_t replay_succeeded = 0;
  int64_t image_references = 0;
  int64_t released_bytes = 0;
  absl::Time create_time;
  // Proof of erasure (server/erasure_prover.h): the erased token's prompt,
  // the head's drift from the base model on it before the erasure, and the
  // drift of `proof_version` (the version that finished the replay).
  std::string proof_prompt;
  std::optional<double> drift_before;
  std::optional<double> drift_after;
  std::optional<int64_t> proof_version;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_RECORDS_H_
