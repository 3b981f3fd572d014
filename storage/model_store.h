// File: storage/model_store.h
//
// ModelStore: base models, user models, their concepts and training images,
// and deletion that cascades and reports what it erased. Versions are created
// by JobStore::Complete and read through LineageStore.
//
// Every call takes the tenant: another tenant's model is NOT_FOUND, exactly
// like a model that does not exist. Implementations are thread-safe.
#ifndef STAMINA_STORAGE_MODEL_STORE_H_
#define STAMINA_STORAGE_MODEL_STORE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/records.h"

namespace stamina::storage {

struct NewModel {
  std::string tenant_id;
  std::string id;
  std::string display_name;
  std::string base_model_id;
  std::string webhook_url;  // "" = none
  // Idempotency (AIP-155): the same request_id with the same request_sha256
  // returns the model it made; with another, ALREADY_EXISTS.
  std::string request_id;
  std::string request_sha256;
};

// A model that starts at another model's version (ForkModel).
struct ModelFork {
  std::string tenant_id;
  std::string source_model_id;
  int64_t source_version = 0;
  // The new model: id, display_name, webhook_url, request_id and
  // request_sha256 as for CreateModel; its base is the source's.
  NewModel model;
};

struct NewConcept {
  std::string tenant_id;
  std::string model_id;
  std::string id;
  std::string token;
  std::string display_name;
  std::vector<std::string> caption_templates;  // no newlines inside
  std::string request_id;                      // as NewModel's
  std::string request_sha256;
};

struct ModelPage {
  std::vector<ModelRecord> models;  // newest first
  std::string next_page_token;
};

struct AddedImage {
  ImageRecord image;
  bool created = false;  // false: the concept already had these bytes
};

struct DeletedConcept {
  ErasureReport erased;
  std::optional<int64_t> head_version;  // the model's head afterwards
};

class ModelStore {
 public:
  virtual ~ModelStore() = default;

  // Registers a base model; re-registering the same digest is a no-op,
  // another digest under the same id is ALREADY_EXISTS.
  virtual absl::StatusOr<BaseModelRecord> PutBaseModel(
      const BaseModelRecord& base) = 0;
  virtual absl::StatusOr<std::vector<BaseModelRecord>> ListBaseModels() = 0;

  // INVALID_ARGUMENT (bad id, unknown base model), NOT_FOUND (tenant),
  // ALREADY_EXISTS (id taken by this tenant).
  virtual absl::StatusOr<ModelRecord> CreateModel(const NewModel& model) = 0;
  virtual absl::StatusOr<ModelRecord> GetModel(const std::string& tenant_id,
                                               const std::string& model_id) = 0;
  virtual absl::StatusOr<ModelPage> ListModels(const std::string& tenant_id,
                                               int page_size,
                                               const std::string& page_token) = 0;

  // INVALID_ARGUMENT (bad id or token), NOT_FOUND (model), ALREADY_EXISTS
  // (id or token used on the model).
  virtual absl::StatusOr<ConceptRecord> CreateConcept(
      const NewConcept& concept_spec) = 0;
  virtual absl::StatusOr<ConceptRecord> GetConcept(
      const std::string& tenant_id, const std::string& model_id,
      const std::string& concept_id) = 0;
  // Oldest first.
  virtual absl::StatusOr<std::vector<ConceptRecord>> ListConcepts(
      const std::string& tenant_id, const std::string& model_id) = 0;

  // Attaches images (whose bytes are already in the blob store) to a DRAFT
  // concept, all or none, in one transaction: FAILED_PRECONDITION when the
  // concept is not DRAFT, RESOURCE_EXHAUSTED when it would hold more than
  // the store's image limit (checked in that transaction, so concurrent
  // uploads cannot both pass it). One result per image, in order.
  virtual absl::StatusOr<std::vector<AddedImage>> AddImages(
      const std::string& tenant_id, const std::string& model_id,
      const std::string& concept_id, const std::vector<ImageRecord>& images) = 0;
  // AddImages of one image.
  absl::StatusOr<AddedImage> AddImage(const std::string& tenant_id,
                                      const std::string& model_id,
                                      const std::string& concept_id,
                                      const ImageRecord& image) {
    absl::StatusOr<std::vector<AddedImage>> added =
        AddImages(tenant_id, model_id, concept_id, {image});
    if (!added.ok()) return added.status();
    return std::move(added->front());
  }
  // Oldest first.
  virtual absl::StatusOr<std::vector<ImageRecord>> ListImages(
      const std::string& tenant_id, const std::string& model_id,
      const std::string& concept_id) = 0;
  // Detaches an image from a DRAFT concept.
  virtual absl::StatusOr<ErasureReport> RemoveImage(
      const std::string& tenant_id, const std::string& model_id,
      const std::string& concept_id, const std::string& digest) = 0;

  // Deletes the model and everything under it (jobs, concepts, image
  // references, versions) and the blob rows nothing references any more.
  virtual absl::StatusOr<ErasureReport> DeleteModel(
      const std::string& tenant_id, const std::string& model_id) = 0;

  // Deletes a concept, its image references and its open jobs. A trained
  // concept needs `force`, which also deletes every version containing it
  // and their descendants, moving the head to the newest surviving ancestor.
  // FAILED_PRECONDITION: trained without `force`, or its job is RUNNING.
  virtual absl::StatusOr<DeletedConcept> DeleteConcept(
      const std::string& tenant_id, const std::string& model_id,
      const std::string& concept_id, bool force) = 0;

  // Creates fork.model as a copy of the source's lineage up to
  // source_version: the same concepts (TRAINED, with their image references
  // and captions) and versions 1..N with the same adapters, settings and
  // metrics, all shared by digest (no bytes copied; the source's later
  // erasures leave the fork intact), head at N and forked_from set.
  // NOT_FOUND (source model or version), ALREADY_EXISTS (id taken),
  // RESOURCE_EXHAUSTED (model quota); request_id as CreateModel's.
  virtual absl::StatusOr<ModelRecord> ForkModel(const ModelFork& fork) = 0;

  // Forgets the idempotency keys of creates (request_id) recorded before
  // `before`, so the table does not grow forever. Returns how many.
  virtual absl::StatusOr<int64_t> ForgetRequestIds(absl::Time before) = 0;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_MODEL_STORE_H_
