#include "storage/testing/test_registry.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/sha256.h"

namespace stamina::storage {

std::string FreshTestPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::remove((path + suffix).c_str());
  }
  return path;
}

absl::StatusOr<std::unique_ptr<TestRegistry>> TestRegistry::Create(
    Options options) {
  std::unique_ptr<TestRegistry> r(new TestRegistry());
  r->path_ = options.file.empty() ? ":memory:" : FreshTestPath(options.file);
  STAMINA_ASSIGN_OR_RETURN(
      r->db_, RegistryDatabase::Open(
                  {.path = r->path_, .synchronous = options.synchronous}));
  STAMINA_ASSIGN_OR_RETURN(
      r->tenants_, SqliteTenantStore::Create(
                       {.db = r->db_.get(), .clock = &r->clock_, .ids = &r->ids_}));
  STAMINA_ASSIGN_OR_RETURN(
      r->models_,
      SqliteModelStore::Create({.db = r->db_.get(),
                                .clock = &r->clock_,
                                .max_models_per_tenant = options.max_models_per_tenant,
                                .max_concepts_per_model = options.max_concepts_per_model,
                                .max_images_per_concept = options.max_images_per_concept,
                                .max_stored_bytes_per_tenant = options.max_stored_bytes_per_tenant}));
  STAMINA_ASSIGN_OR_RETURN(
      r->lineage_,
      SqliteLineageStore::Create({.db = r->db_.get(), .clock = &r->clock_}));
  STAMINA_ASSIGN_OR_RETURN(
      r->erasures_,
      SqliteErasureStore::Create({.db = r->db_.get(), .clock = &r->clock_, .ids = &r->ids_}));
  STAMINA_ASSIGN_OR_RETURN(
      r->jobs_,
      SqliteJobStore::Create(
          {.db = r->db_.get(),
           .clock = &r->clock_,
           .ids = &r->ids_,
           .max_open_jobs_per_tenant = options.max_open_jobs_per_tenant,
           .min_images_per_concept = options.min_images_per_concept,
           .max_attempts = options.max_attempts}));
  STAMINA_RETURN_IF_ERROR(
      r->models_
          ->PutBaseModel({.id = kBaseModel, .digest = Sha256Hex("tiny weights")})
          .status());
  return r;
}

absl::Status TestRegistry::AddTenant(const std::string& tenant) {
  if (tenants_->GetTenant(tenant).ok()) return absl::OkStatus();
  return tenants_->CreateTenant(tenant, "").status();
}

absl::Status TestRegistry::AddModel(const std::string& tenant,
                                    const std::string& model) {
  STAMINA_RETURN_IF_ERROR(AddTenant(tenant));
  if (models_->GetModel(tenant, model).ok()) return absl::OkStatus();
  return models_
      ->CreateModel({.tenant_id = tenant, .id = model, .base_model_id = kBaseModel})
      .status();
}

std::string TestRegistry::ImageDigest(const std::string& model,
                                      const std::string& concept, int index) {
  return Sha256Hex(absl::StrCat(model, "/", concept, "/", index));
}

absl::Status TestRegistry::AddTrainableConcept(const std::string& tenant,
                                               const std::string& model,
                                               const std::string& concept,
                                               int images) {
  STAMINA_RETURN_IF_ERROR(AddModel(tenant, model));
  STAMINA_RETURN_IF_ERROR(models_
                              ->CreateConcept({.tenant_id = tenant,
                                               .model_id = model,
                                               .id = concept,
                                               .token = "<" + concept + ">"})
                              .status());
  for (int i = 0; i < images; ++i) {
    STAMINA_RETURN_IF_ERROR(
        models_
            ->AddImage(tenant, model, concept,
                       {.digest = ImageDigest(model, concept, i),
                        .format = ImageFormat::kPng,
                        .width = 32,
                        .height = 32,
                        .size_bytes = 1000 + i,
                        .filename = absl::StrCat(concept, i, ".png")})
            .status());
  }
  return absl::OkStatus();
}

}  // namespace stamina::storage
