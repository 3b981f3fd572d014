// File: storage/sqlite_model_store.h
//
// ModelStore on the registry's SQLite file. Creation and lookup live in
// sqlite_model_store.cc, cascading deletion in sqlite_model_store_erasure.cc.
// Thread-safe. The Clock is not owned and must outlive the store.
#ifndef STAMINA_STORAGE_SQLITE_MODEL_STORE_H_
#define STAMINA_STORAGE_SQLITE_MODEL_STORE_H_

#include <cstdint>
#include <memory>

#include "common/clock.h"
#include "storage/model_store.h"
#include "storage/registry_database.h"

namespace stamina::storage {

class SqliteModelStore final : public ModelStore {
 public:
  struct Options {
    RegistryDatabase* db = nullptr;  // not owned
    Clock* clock = nullptr;          // not owned
    // Quotas checked in the create's own transaction (RESOURCE_EXHAUSTED),
    // so concurrent creates cannot both pass; 0: no quota.
    int max_models_per_tenant = 0;
    int max_concepts_per_model = 0;
    int max_images_per_concept = 0;
    // Bytes a tenant may hold: the distinct images of all its concepts plus
    // its models' adapter artifacts. Checked when images are added (training
    // results count but are never refused, so finished work is not lost).
    int64_t max_stored_bytes_per_tenant = 0;
  };
  static absl::StatusOr<std::unique_ptr<SqliteModelStore>> Create(
      Options options);

  absl::StatusOr<BaseModelRecord> PutBaseModel(
      const BaseModelRecord& base) override;
  absl::StatusOr<std::vector<BaseModelRecord>> ListBaseModels() override;
  absl::StatusOr<ModelRecord> CreateModel(const NewModel& model) override;
  absl::StatusOr<ModelRecord> GetModel(const std::string& tenant_id,
                                       const std::string& model_id) override;
  absl::StatusOr<ModelPage> ListModels(const std::string& tenant_id,
                                       int page_size,
                                       const std::string& page_token) override;
  absl::StatusOr<ConceptRecord> CreateConcept(
      const NewConcept& concept_spec) override;
  absl::StatusOr<ConceptRecord> GetConcept(
      const std::string& tenant_id, const std::string& model_id,
      const std::string& concept_id) override;
  absl::StatusOr<std::vector<ConceptRecord>> ListConcepts(
      const std::string& tenant_id, const std::string& model_id) override;
  absl::StatusOr<std::vector<AddedImage>> AddImages(
      const std::string& tenant_id, const std::string& model_id,
      const std::string& concept_id, const std::vector<ImageRecord>& images) override;
  absl::StatusOr<std::vector<ImageRecord>> ListImages(
      const std::string& tenant_id, const std::string& model_id,
      const std::string& concept_id) override;
  absl::StatusOr<ErasureReport> RemoveImage(
      const std::string& tenant_id, const std::string& model_id,
      const std::string& concept_id, const std::string& digest) override;
  absl::StatusOr<ErasureReport> DeleteModel(
      const std::string& tenant_id, const std::string& model_id) override;
  absl::StatusOr<int64_t> ForgetRequestIds(absl::Time before) override;
  absl::StatusOr<ModelRecord> ForkModel(const ModelFork& fork) override;
  absl::StatusOr<DeletedConcept> DeleteConcept(const std::string& tenant_id,
                                               const std::string& model_id,
                                               const std::string& concept_id,
                                               bool force) override;

 private:
  explicit SqliteModelStore(Options options) : options_(options) {}
  const Options options_;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_SQLITE_MODEL_STORE_H_
