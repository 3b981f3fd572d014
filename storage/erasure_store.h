// File: storage/erasure_store.h
//
// ErasureStore: removing one trained concept from a model for good, keeping
// the others (docs/api.md, ConceptService.EraseConcept). One write
// transaction deletes the concept, its image references and every version
// containing it (recorded as erased versions: lineage without weights), moves
// the head to the newest version without it, and, in replay mode, queues one
// job per later concept of the head's lineage, in their old order, ahead of
// the model's other open jobs, with the settings each was trained with. From
// the moment it commits the concept is served by no version; the replay jobs
// are ordinary jobs (lease, progress, cancel, restart-safe). A RUNNING job of
// the model was training on a version being erased: it is handed back to the
// queue (its lease is lost, its attempt not counted) and runs after the
// replays.
//
// Every call takes the tenant: another tenant's model is NOT_FOUND.
// Implementations are thread-safe.
#ifndef STAMINA_STORAGE_ERASURE_STORE_H_
#define STAMINA_STORAGE_ERASURE_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/records.h"

namespace stamina::storage {

struct ConceptErasure {
  std::string tenant_id;
  std::string model_id;
  std::string concept_id;
  ErasureMode mode = ErasureMode::kReplay;
  std::string requested_by;  // "apiKeys/{key}" or "admin"
  // Idempotency as CreateModel's: the same key and content returns the
  // erasure it made.
  std::string request_id;
  std::string request_sha256;
  // Measured before the erasure (may be empty / nullopt).
  std::string proof_prompt;
  std::optional<double> drift_before;
};

struct ErasureResult {
  ErasureRecord erasure;
  // What the transaction removed; unreferenced_blobs are for the caller to
  // delete from the blob store. Empty when an idempotent retry returned an
  // earlier erasure.
  ErasureReport erased;
};

class ErasureStore {
 public:
  virtual ~ErasureStore() = default;

  // NOT_FOUND (model, concept), FAILED_PRECONDITION (the concept is folded
  // into no version: DeleteConcept removes it; or its own job is RUNNING),
  // ALREADY_EXISTS (request_id reused with other content).
  virtual absl::StatusOr<ErasureResult> EraseConcept(const ConceptErasure& request) = 0;

  virtual absl::StatusOr<ErasureRecord> GetErasure(const std::string& tenant_id,
                                                   const std::string& model_id,
                                                   const std::string& erasure_id) = 0;
  // Oldest first.
  virtual absl::StatusOr<std::vector<ErasureRecord>> ListErasures(const std::string& tenant_id,
                                                                  const std::string& model_id) = 0;

  // Records how far `version` draws the proof prompt from the base model.
  // NOT_FOUND (model, erasure).
  virtual absl::Status RecordDriftAfter(const std::string& tenant_id, const std::string& model_id,
                                        const std::string& erasure_id, int64_t version,
                                        double drift) = 0;

  // The erased version `version` of the model, when an erasure removed it:
  // what GetVersion and Sample report instead of NOT_FOUND.
  virtual absl::StatusOr<std::optional<ErasureRecord>> ErasureOfVersion(
      const std::string& tenant_id, const std::string& model_id, int64_t version) = 0;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_ERASURE_STORE_H_
