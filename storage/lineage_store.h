// File: storage/lineage_store.h
//
// LineageStore: the immutable model versions, which form a tree per model
// (each version has one parent, or the base model), and the movable head.
// A version's lineage is its root-to-version chain; every step records the
// concept, its token and images, the adapter digest, settings and metrics,
// so "what went into this model" is one query. Versions are created by
// JobStore::Complete. Implementations are thread-safe.
#ifndef STAMINA_STORAGE_LINEAGE_STORE_H_
#define STAMINA_STORAGE_LINEAGE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/records.h"

namespace stamina::storage {

struct VersionPage {
  std::vector<VersionRecord> versions;  // newest first
  std::string next_page_token;
};

// How two versions of one model differ.
struct VersionDiff {
  // The newest version both descend from (nullopt: only the base model).
  std::optional<int64_t> common_ancestor;
  // Steps after the common ancestor, oldest first.
  std::vector<VersionRecord> only_in_a;
  std::vector<VersionRecord> only_in_b;
};

class LineageStore {
 public:
  virtual ~LineageStore() = default;

  virtual absl::StatusOr<VersionRecord> GetVersion(
      const std::string& tenant_id, const std::string& model_id,
      int64_t version) = 0;
  virtual absl::StatusOr<VersionPage> ListVersions(
      const std::string& tenant_id, const std::string& model_id, int page_size,
      const std::string& page_token) = 0;

  // The chain of `version` (or of the head when nullopt), oldest first.
  // FAILED_PRECONDITION when asked for the head of a model without versions.
  virtual absl::StatusOr<std::vector<LineageStep>> Lineage(
      const std::string& tenant_id, const std::string& model_id,
      std::optional<int64_t> version) = 0;

  // Every version whose lineage contains the concept, oldest first.
  virtual absl::StatusOr<std::vector<VersionRecord>> VersionsContaining(
      const std::string& tenant_id, const std::string& model_id,
      const std::string& concept_id) = 0;

  virtual absl::StatusOr<VersionDiff> Diff(const std::string& tenant_id,
                                           const std::string& model_id,
                                           int64_t a, int64_t b) = 0;

  // Moves the head to `version`. FAILED_PRECONDITION while a job on the model
  // is RUNNING (it trains on the head it started from).
  virtual absl::StatusOr<ModelRecord> Rollback(const std::string& tenant_id,
                                               const std::string& model_id,
                                               int64_t version) = 0;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_LINEAGE_STORE_H_
