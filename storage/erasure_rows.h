// File: storage/erasure_rows.h
//
// The statements a cascading delete of a concept is made of, shared by
// ModelStore::DeleteConcept and ErasureStore::EraseConcept: which versions
// contain the concept, where the head goes, and the deletion itself, which
// reports exactly what it removed. Internal to storage/. Not thread-safe;
// callers run inside a RegistryDatabase write transaction.
#ifndef STAMINA_STORAGE_ERASURE_ROWS_H_
#define STAMINA_STORAGE_ERASURE_ROWS_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "storage/database.h"
#include "storage/model_rows.h"
#include "storage/records.h"

namespace stamina::storage {

// Versions of `model_pk` that contain `concept_pk`, with every descendant.
absl::StatusOr<std::set<int64_t>> VersionsWithConcept(Database& db, int64_t model_pk,
                                                      int64_t concept_pk);

// The newest ancestor of `head` (itself included) not in `doomed`.
absl::StatusOr<std::optional<int64_t>> SurvivingHead(Database& db, int64_t model_pk,
                                                     std::optional<int64_t> head,
                                                     const std::set<int64_t>& doomed);

// Deletes the versions `doomed`, the concept `c` with its image references and
// jobs, and the blob rows nothing references any more; moves the head to
// `head`. Concepts left without versions become DRAFT again (their pks are
// returned, oldest first), and RUNNING jobs training on a doomed version are
// handed back to the queue: their lease is lost and the attempt not counted.
// Fills `report`.
absl::StatusOr<std::vector<int64_t>> DropConceptRows(Database& db, const std::string& tenant_id,
                                                     const ModelRow& model, const ConceptRow& c,
                                                     const std::set<int64_t>& doomed,
                                                     std::optional<int64_t> head, int64_t now_us,
                                                     ErasureReport& report);

// Deletes the versions `doomed` of the model (reported in `report`), adding
// their adapters to `blobs` for CollectBlobs.
absl::Status DeleteVersions(Database& db, const ModelRow& model, const std::set<int64_t>& doomed,
                            std::set<std::string>& blobs, ErasureReport& report);

// Reports which of `candidates` the tenant no longer references (released),
// then deletes the blob rows of those no tenant references (unreferenced).
absl::Status CollectBlobs(Database& db, const std::string& tenant_id,
                          const std::set<std::string>& candidates, ErasureReport& report);

// Runs `sql` with ?1 bound to `arg`, collecting the first column as text.
absl::StatusOr<std::vector<std::string>> TextColumn(Database& db, const std::string& sql,
                                                    int64_t arg);
// Runs `sql` with ?1 bound to `arg`.
absl::Status ExecWith(Database& db, const std::string& sql, int64_t arg);

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_ERASURE_ROWS_H_
