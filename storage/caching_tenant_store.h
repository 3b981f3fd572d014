// File: storage/caching_tenant_store.h
//
// CachingTenantStore: a TenantStore decorator that remembers successful
// API-key resolutions for a short time, so the registry read behind every
// authenticated call usually becomes a hash-map lookup.
//
// What it keeps of TenantStore's promises:
// - A revocation made through it holds for every call that starts after
//   RevokeApiKey returns: the cache is emptied and a generation counter
//   stops resolutions that read the registry before the revocation from
//   storing their stale answer. staminad is the registry's only writer and
//   passes every revocation through this decorator.
// - A key's expiry is exact: an entry is never used at or past it.
// - Unknown, revoked and expired keys are never cached, so a new key works on
//   its next call and a flood of wrong keys cannot fill the cache.
// Entries are keyed by the secret's SHA-256, never by the secret.
//
// Thread-safe. The inner store and the Clock are not owned and must outlive
// the decorator.
#ifndef STAMINA_STORAGE_CACHING_TENANT_STORE_H_
#define STAMINA_STORAGE_CACHING_TENANT_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "storage/tenant_store.h"

namespace stamina::storage {

class CachingTenantStore final : public TenantStore {
 public:
  struct Options {
    TenantStore* inner = nullptr;  // not owned
    Clock* clock = nullptr;        // not owned
    // How long a resolution is reused. Positive.
    absl::Duration ttl = absl::Seconds(5);
    // Entries kept at most; the cache starts over when full. Positive.
    size_t max_entries = 10000;
  };
  static absl::StatusOr<std::unique_ptr<CachingTenantStore>> Create(Options options);

  absl::StatusOr<TenantRecord> CreateTenant(const std::string& id,
                                            const std::string& display_name) override {
    return options_.inner->CreateTenant(id, display_name);
  }
  absl::StatusOr<TenantRecord> GetTenant(const std::string& id) override {
    return options_.inner->GetTenant(id);
  }
  absl::StatusOr<std::vector<TenantRecord>> ListTenants() override {
    return options_.inner->ListTenants();
  }
  // Not cached: EraseConcept reads the policy with GetTenant, which passes through.
  absl::StatusOr<TenantRecord> SetErasurePolicy(const std::string& id,
                                                ErasurePolicy policy) override {
    return options_.inner->SetErasurePolicy(id, policy);
  }
  using TenantStore::CreateApiKey;
  absl::StatusOr<NewApiKey> CreateApiKey(const std::string& tenant_id,
                                         const ApiKeySpec& spec) override {
    return options_.inner->CreateApiKey(tenant_id, spec);
  }
  absl::StatusOr<ResolvedApiKey> ResolveApiKey(const std::string& secret) override;
  absl::Status RevokeApiKey(const std::string& tenant_id, const std::string& key_id) override;
  absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys(const std::string& tenant_id) override {
    return options_.inner->ListApiKeys(tenant_id);
  }

  // Resolutions answered from the cache and from the inner store (tests,
  // metrics).
  struct Counts {
    int64_t hits = 0;
    int64_t misses = 0;
  };
  Counts counts() const;

 private:
  struct Entry {
    ResolvedApiKey resolved;
    absl::Time valid_until;  // min(cached at + ttl, the key's expiry)
  };

  explicit CachingTenantStore(Options options) : options_(options) {}

  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Bumped by every revocation; a resolution stores its answer only if no
  // revocation happened while it read the inner store.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  Counts counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_CACHING_TENANT_STORE_H_
