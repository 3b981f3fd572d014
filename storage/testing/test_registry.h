// File: storage/testing/test_registry.h
//
// A registry for tests: a RegistryDatabase (a file under TEST_TMPDIR, or
// in memory), a FakeClock, sequential ids and every SQLite store, plus
// shortcuts that create a tenant, model and concept with images in one line.
//
//   STAMINA_ASSERT_OK_AND_ASSIGN(auto registry, TestRegistry::Create());
//   STAMINA_ASSERT_OK(registry->AddTrainableConcept("t1", "m1", "anna"));
//
// Thread-safe as the stores are; the shortcuts are for test set-up.
#ifndef STAMINA_STORAGE_TESTING_TEST_REGISTRY_H_
#define STAMINA_STORAGE_TESTING_TEST_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/ids.h"
#include "common/testing/fake_clock.h"
#include "storage/registry_database.h"
#include "storage/sqlite_erasure_store.h"
#include "storage/sqlite_job_store.h"
#include "storage/sqlite_lineage_store.h"
#include "storage/sqlite_model_store.h"
#include "storage/sqlite_tenant_store.h"

namespace stamina::storage {

class TestRegistry {
 public:
  struct Options {
    // File name under TEST_TMPDIR (removed first); empty = in memory.
    std::string file;
    Database::Synchronous synchronous = Database::Synchronous::kNormal;
    int max_open_jobs_per_tenant = 0;
    int min_images_per_concept = 1;
    int max_attempts = 3;
    int max_models_per_tenant = 0;
    int max_concepts_per_model = 0;
    int max_images_per_concept = 0;
    int64_t max_stored_bytes_per_tenant = 0;
  };
  static absl::StatusOr<std::unique_ptr<TestRegistry>> Create(Options options);
  static absl::StatusOr<std::unique_ptr<TestRegistry>> Create() {
    return Create(Options{});
  }

  // The base model every shortcut uses.
  static constexpr char kBaseModel[] = "stamina-tiny-v1";

  // Creates the tenant if missing.
  absl::Status AddTenant(const std::string& tenant);
  // Creates tenant (if missing) and model on kBaseModel.
  absl::Status AddModel(const std::string& tenant, const std::string& model);
  // Creates a concept with token "<concept>" and `images` distinct images
  // (tenant and model are created if missing).
  absl::Status AddTrainableConcept(const std::string& tenant,
                                   const std::string& model,
                                   const std::string& concept, int images = 1);
  // A fake image digest, distinct per (model, concept, index).
  static std::string ImageDigest(const std::string& model,
                                 const std::string& concept, int index);

  FakeClock& clock() { return clock_; }
  RegistryDatabase& db() { return *db_; }
  SqliteTenantStore& tenants() { return *tenants_; }
  SqliteModelStore& models() { return *models_; }
  SqliteLineageStore& lineage() { return *lineage_; }
  SqliteErasureStore& erasures() { return *erasures_; }
  SqliteJobStore& jobs() { return *jobs_; }
  const std::string& path() const { return path_; }

 private:
  TestRegistry() = default;

  FakeClock clock_;
  SequentialIdGenerator ids_{"id"};
  std::string path_;
  std::unique_ptr<RegistryDatabase> db_;
  std::unique_ptr<SqliteTenantStore> tenants_;
  std::unique_ptr<SqliteModelStore> models_;
  std::unique_ptr<SqliteLineageStore> lineage_;
  std::unique_ptr<SqliteErasureStore> erasures_;
  std::unique_ptr<SqliteJobStore> jobs_;
};

// "<dir>/<name>" under TEST_TMPDIR, with any SQLite files of that name removed.
std::string FreshTestPath(const std::string& name);

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_TESTING_TEST_REGISTRY_H_
