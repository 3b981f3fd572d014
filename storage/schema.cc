#include "storage/schema.h"

namespace stamina::storage {
namespace {

// Version 1: tenants and keys, base and user models, concepts, images and
// blobs, the job queue, and immutable model versions forming a tree.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE tenants (
  id TEXT PRIMARY KEY NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  create_time_us INTEGER NOT NULL,
  -- Round-robin fairness: the tenant served longest ago claims next.
  last_claim_seq INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY NOT NULL,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  -- Only the SHA-256 of the secret is stored.
  secret_sha256 TEXT NOT NULL UNIQUE,
  create_time_us INTEGER NOT NULL,
  revoke_time_us INTEGER
) STRICT;

CREATE TABLE base_models (
  id TEXT PRIMARY KEY NOT NULL,
  digest TEXT NOT NULL,
  config TEXT NOT NULL DEFAULT '',
  create_time_us INTEGER NOT NULL
) STRICT;

CREATE TABLE models (
  pk INTEGER PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  base_model_id TEXT NOT NULL REFERENCES base_models(id),
  base_digest TEXT NOT NULL,
  head_version INTEGER,
  next_version INTEGER NOT NULL DEFAULT 1,
  create_time_us INTEGER NOT NULL,
  update_time_us INTEGER NOT NULL,
  UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE concepts (
  pk INTEGER PRIMARY KEY,
  model_pk INTEGER NOT NULL REFERENCES models(pk),
  id TEXT NOT NULL,
  token TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  -- Newline-separated caption templates.
  caption_templates TEXT NOT NULL DEFAULT '',
  state INTEGER NOT NULL,
  create_time_us INTEGER NOT NULL,
  UNIQUE (model_pk, id),
  UNIQUE (model_pk, token)
) STRICT;

CREATE TABLE blobs (
  digest TEXT PRIMARY KEY NOT NULL,
  size_bytes INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  create_time_us INTEGER NOT NULL
) STRICT;

CREATE TABLE images (
  digest TEXT PRIMARY KEY NOT NULL REFERENCES blobs(digest),
  format INTEGER NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL
) STRICT;

CREATE TABLE concept_images (
  concept_pk INTEGER NOT NULL REFERENCES concepts(pk),
  digest TEXT NOT NULL REFERENCES images(digest),
  filename TEXT NOT NULL DEFAULT '',
  caption TEXT NOT NULL DEFAULT '',
  create_time_us INTEGER NOT NULL,
  PRIMARY KEY (concept_pk, digest)
) STRICT;
CREATE INDEX concept_images_by_digest ON concept_images(digest);

CREATE TABLE jobs (
  -- Creation order: FIFO order within a model.
  pk INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  model_pk INTEGER NOT NULL REFERENCES models(pk),
  concept_pk INTEGER NOT NULL REFERENCES concepts(pk),
  request_id TEXT,
  request_fingerprint TEXT NOT NULL DEFAULT '',
  settings BLOB NOT NULL DEFAULT x'',
  state INTEGER NOT NULL,
  phase INTEGER NOT NULL DEFAULT 0,
  attempt INTEGER NOT NULL DEFAULT 0,
  lease_id TEXT,
  lease_owner TEXT,
  lease_expiry_us INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  step INTEGER NOT NULL DEFAULT 0,
  total_steps INTEGER NOT NULL DEFAULT 0,
  loss REAL NOT NULL DEFAULT 0,
  training_seconds REAL NOT NULL DEFAULT 0,
  error_code INTEGER NOT NULL DEFAULT 0,
  error_message TEXT NOT NULL DEFAULT '',
  error_retryable INTEGER NOT NULL DEFAULT 0,
  parent_version INTEGER,
  result_version INTEGER,
  create_time_us INTEGER NOT NULL,
  start_time_us INTEGER,
  end_time_us INTEGER,
  UNIQUE (tenant_id, request_id)
) STRICT;
-- Open jobs (queued, running, failed) per model, in order: the claim query.
CREATE INDEX jobs_open_by_model ON jobs(model_pk, pk) WHERE state IN (1, 2, 4);
CREATE INDEX jobs_running_by_expiry ON jobs(lease_expiry_us) WHERE state = 2;
CREATE INDEX jobs_by_tenant ON jobs(tenant_id, pk);

CREATE TABLE versions (
  model_pk INTEGER NOT NULL REFERENCES models(pk),
  version INTEGER NOT NULL,
  parent_version INTEGER,
  concept_pk INTEGER NOT NULL REFERENCES concepts(pk),
  token TEXT NOT NULL,
  job_pk INTEGER REFERENCES jobs(pk),
  adapter_digest TEXT NOT NULL REFERENCES blobs(digest),
  base_digest TEXT NOT NULL,
  settings BLOB NOT NULL DEFAULT x'',
  metrics BLOB NOT NULL DEFAULT x'',
  depth INTEGER NOT NULL,
  create_time_us INTEGER NOT NULL,
  PRIMARY KEY (model_pk, version),
  FOREIGN KEY (model_pk, parent_version) REFERENCES versions(model_pk, version)
) STRICT;
CREATE INDEX versions_by_concept ON versions(concept_pk);
CREATE UNIQUE INDEX versions_by_job ON versions(job_pk);

CREATE TABLE counters (
  name TEXT PRIMARY KEY NOT NULL,
  value INTEGER NOT NULL
) STRICT;
INSERT INTO counters VALUES ('claim_seq', 0);
)sql";

// Version 2: API keys get a label and an optional expiry (admin service).
// Old code ignores both columns, so it can still open the file: compatible
// with version 1 (an expired key would work again there, as before).
constexpr char kSchemaV2[] = R"sql(
ALTER TABLE api_keys ADD COLUMN label TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN expire_time_us INTEGER;
)sql";

// Version 3: idempotency keys of CreateModel and CreateConcept, checked in
// the create's transaction (storage/request_rows.h). Old code ignores the
// table: compatible with version 1.
constexpr char kSchemaV3[] = R"sql(
CREATE TABLE request_ids (
  tenant_id TEXT NOT NULL,
  method TEXT NOT NULL,
  request_id TEXT NOT NULL,
  request_sha256 TEXT NOT NULL,
  resource TEXT NOT NULL,
  create_time_us INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, method, request_id)
) STRICT;
)sql";

// Version 4: an image's file name as the client sent it, C-escaped (the
// filename column holds its safe display form). Old code ignores the
// column: compatible with version 1.
constexpr char kSchemaV4[] = R"sql(
ALTER TABLE concept_images ADD COLUMN original_filename TEXT NOT NULL DEFAULT '';
)sql";

// Version 5: webhooks. A job carries the URL its state changes are POSTed
// to (from TrainConceptRequest, else its model's); every change of a job
// with one writes an event to the outbox in the same transaction, and the
// dispatcher delivers it from there, signed with the tenant's secret, until
// the receiver answers 2xx (so an event survives restarts and may arrive
// twice). Old code ignores the columns and tables but records no events:
// compatible with version 1, without webhooks.
constexpr char kSchemaV5[] = R"sql(
ALTER TABLE jobs ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
ALTER TABLE models ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
-- ForkModel: the source version a model started from, "models/{m}/versions/{v}".
ALTER TABLE models ADD COLUMN forked_from TEXT NOT NULL DEFAULT '';
CREATE TABLE webhook_secrets (
  tenant_id TEXT PRIMARY KEY NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  -- "whsec_" + base64 of the key: HMAC needs the key itself.
  secret TEXT NOT NULL,
  create_time_us INTEGER NOT NULL,
  -- After a rotation deliveries are signed with both until this time, so
  -- receivers can switch without refusing any.
  previous_secret TEXT NOT NULL DEFAULT '',
  previous_expire_us INTEGER
) STRICT;
CREATE TABLE webhook_outbox (
  pk INTEGER PRIMARY KEY,
  -- The webhook-id header: receivers deduplicate by it.
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  url TEXT NOT NULL,
  -- The job the event is about: one job's events go out in order.
  subject TEXT NOT NULL,
  type TEXT NOT NULL,
  -- The JSON payload, exactly as sent and signed.
  body TEXT NOT NULL,
  create_time_us INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_us INTEGER NOT NULL,
  delivered_time_us INTEGER,
  abandoned INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX webhook_outbox_due ON webhook_outbox(next_attempt_us)
  WHERE delivered_time_us IS NULL AND abandoned = 0;
CREATE INDEX webhook_outbox_pending_by_subject ON webhook_outbox(subject, pk)
  WHERE delivered_time_us IS NULL AND abandoned = 0;
)sql";

constexpr char kSchemaV6[] = R"sql(
-- EraseConcept: one row per erasure of a trained concept, kept after the
-- concept, its images and its versions are gone (who, when, what).
CREATE TABLE erasures (
  pk INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  model_pk INTEGER NOT NULL REFERENCES models(pk),
  concept_id TEXT NOT NULL,
  token TEXT NOT NULL,
  -- 1 replay (later concepts retrained), 2 drop (later concepts DRAFT again).
  mode INTEGER NOT NULL,
  -- "apiKeys/{key}" of the caller, or "admin".
  requested_by TEXT NOT NULL,
  -- The newest version without the concept: the replay starts there.
  restart_version INTEGER,
  replay_count INTEGER NOT NULL DEFAULT 0,
  image_references INTEGER NOT NULL DEFAULT 0,
  released_bytes INTEGER NOT NULL DEFAULT 0,
  create_time_us INTEGER NOT NULL
) STRICT;
CREATE INDEX erasures_by_model ON erasures(model_pk, pk);
-- Versions an erasure removed: lineage records without weights, never servable.
CREATE TABLE erased_versions (
  model_pk INTEGER NOT NULL REFERENCES models(pk),
  version INTEGER NOT NULL,
  parent_version INTEGER,
  concept_id TEXT NOT NULL,
  token TEXT NOT NULL,
  depth INTEGER NOT NULL,
  create_time_us INTEGER NOT NULL,
  erasure_pk INTEGER NOT NULL REFERENCES erasures(pk),
  PRIMARY KEY (model_pk, version)
) STRICT;
-- Replay jobs: the erasure that queued them and the version they re-create.
ALTER TABLE jobs ADD COLUMN erasure_pk INTEGER REFERENCES erasures(pk);
ALTER TABLE jobs ADD COLUMN replay_of_version INTEGER;
)sql";

constexpr char kSchemaV7[] = R"sql(
-- EraseConcept's default per tenant: 1 replay, 2 drop only.
ALTER TABLE tenants ADD COLUMN erasure_policy INTEGER NOT NULL DEFAULT 1;
)sql";

constexpr char kSchemaV8[] = R"sql(
-- Proof of erasure: the prompt of the erased token, how far the model's head
-- drew it from the base model before the erasure, and how far the version
-- that finished the replay does (RMS pixel drift, same seeds).
ALTER TABLE erasures ADD COLUMN proof_prompt TEXT NOT NULL DEFAULT '';
ALTER TABLE erasures ADD COLUMN drift_before REAL;
ALTER TABLE erasures ADD COLUMN drift_after REAL;
ALTER TABLE erasures ADD COLUMN proof_version INTEGER;
)sql";

}  // namespace

const std::vector<Migration>& RegistryMigrations() {
  static const std::vector<Migration>* const migrations = new std::vector<Migration>{
      {.version = 1, .description = "registry v1", .sql = kSchemaV1},
      {.version = 2,
       .description = "api key labels and expiry",
       .sql = kSchemaV2,
       .compatible_version = 1},
      {.version = 3,
       .description = "idempotency keys of creates",
       .sql = kSchemaV3,
       .compatible_version = 1},
      {.version = 4,
       .description = "escaped original file names of images",
       .sql = kSchemaV4,
       .compatible_version = 1},
      {.version = 5,
       .description = "webhooks (job and model URLs, tenant secrets, the outbox); forks",
       .sql = kSchemaV5,
       .compatible_version = 1},
      {.version = 6,
       .description = "concept erasures and the versions they removed",
       .sql = kSchemaV6,
       .compatible_version = 1},
      {.version = 7,
       .description = "tenants' erasure policy",
       .sql = kSchemaV7,
       .compatible_version = 1},
      {.version = 8, .description = "proof of erasure", .sql = kSchemaV8, .compatible_version = 1},
  };
  return *migrations;
}

}  // namespace stamina::storage
