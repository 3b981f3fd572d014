#include "storage/caching_tenant_store.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "storage/sha256.h"

namespace stamina::storage {

absl::StatusOr<std::unique_ptr<CachingTenantStore>> CachingTenantStore::Create(Options options) {
  if (options.inner == nullptr) return absl::InvalidArgumentError("inner: must be set");
  if (options.clock == nullptr) return absl::InvalidArgumentError("clock: must be set");
  if (options.ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ttl: must be positive");
  }
  if (options.max_entries == 0) return absl::InvalidArgumentError("max_entries: must be positive");
  return std::unique_ptr<CachingTenantStore>(new CachingTenantStore(options));
}

absl::StatusOr<ResolvedApiKey> CachingTenantStore::ResolveApiKey(const std::string& secret) {
  const std::string digest = Sha256Hex(secret);
  uint64_t generation = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(digest);
    if (it != entries_.end()) {
      if (options_.clock->Now() < it->second.valid_until) {
        ++counts_.hits;
        return it->second.resolved;
      }
      entries_.erase(it);
    }
    ++counts_.misses;
    generation = generation_;
  }
  absl::StatusOr<ResolvedApiKey> resolved = options_.inner->ResolveApiKey(secret);
  if (!resolved.ok()) return resolved;
  const absl::Time now = options_.clock->Now();
  absl::Time valid_until = now + options_.ttl;
  if (resolved->expire_time.has_value()) {
    valid_until = std::min(valid_until, *resolved->expire_time);
  }
  absl::MutexLock lock(&mu_);
  if (generation == generation_ && now < valid_until) {
    if (entries_.size() >= options_.max_entries) entries_.clear();
    entries_[digest] = Entry{.resolved = *resolved, .valid_until = valid_until};
  }
  return resolved;
}

absl::Status CachingTenantStore::RevokeApiKey(const std::string& tenant_id,
                                              const std::string& key_id) {
  // The registry first: a resolution that reads it afterwards sees the
  // revocation; one that read it before cannot store its answer past the
  // generation bump, and anything it stored earlier is dropped here.
  absl::Status revoked = options_.inner->RevokeApiKey(tenant_id, key_id);
  absl::MutexLock lock(&mu_);
  ++generation_;
  entries_.clear();
  return revoked;
}

CachingTenantStore::Counts CachingTenantStore::counts() const {
  absl::MutexLock lock(&mu_);
  return counts_;
}

}  // namespace stamina::storage
