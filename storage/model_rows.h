// File: storage/model_rows.h
//
// SQL helpers shared by the SQLite model and lineage stores: lookups that
// enforce tenancy (another tenant's model is NOT_FOUND) and row readers.
// Internal to storage/. Not thread-safe; callers run inside a
// RegistryDatabase transaction.
#ifndef STAMINA_STORAGE_MODEL_ROWS_H_
#define STAMINA_STORAGE_MODEL_ROWS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "storage/database.h"
#include "storage/records.h"
#include "storage/request_rows.h"

namespace stamina::storage {

struct ModelRow {
  int64_t pk = 0;
  ModelRecord record;
};

struct ConceptRow {
  int64_t pk = 0;
  ConceptRecord record;
};

// RESOURCE_EXHAUSTED when the tenant already has `max_models` (> 0) models.
absl::Status CheckModelQuota(Database& db, const std::string& tenant_id, int max_models);

struct ModelRowSpec {
  std::string tenant_id;
  std::string id;
  std::string display_name;
  std::string base_model_id;
  std::string base_digest;
  std::string webhook_url;
  std::string forked_from;
  int64_t now_us = 0;
};

// Inserts a model; NOT_FOUND (no such tenant), ALREADY_EXISTS (id taken).
// Returns its pk.
absl::StatusOr<int64_t> InsertModelRow(Database& db, const ModelRowSpec& spec);

// The model an earlier create with the same idempotency key made (nullopt for
// a new key); FAILED_PRECONDITION when it was deleted since, ALREADY_EXISTS
// when the key was used with other content (request_rows.h).
absl::StatusOr<std::optional<ModelRecord>> ModelOfRequest(Database& db, const RequestKey& key);

// NOT_FOUND "models/{model} not found" unless the tenant owns it.
absl::StatusOr<ModelRow> FindModel(Database& db, const std::string& tenant_id,
                                   const std::string& model_id);

absl::StatusOr<ConceptRow> FindConcept(Database& db, const ModelRow& model,
                                       const std::string& concept_id);

// The bytes a tenant holds: its distinct images (over all its concepts) and
// its models' adapter artifacts, each digest counted once.
absl::StatusOr<int64_t> TenantStoredBytes(Database& db, const std::string& tenant_id);

// SELECT list over `versions v JOIN concepts c JOIN models m`, with
// LEFT JOIN jobs j; ReadVersionRow() reads it.
extern const char kVersionSelect[];
VersionRecord ReadVersionRow(const Statement& row);

// Names as in docs/api.md.
std::string ModelName(const std::string& model_id);
std::string ConceptName(const std::string& model_id,
                        const std::string& concept_id);
std::string VersionName(const std::string& model_id, int64_t version);

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_MODEL_ROWS_H_
