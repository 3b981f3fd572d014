// File: sampler/folded_model_cache.h
//
// FoldedModelCache: an LRU cache of folded models (a version's base model
// with its lineage folded in) under a byte budget. Keys are recipes (base
// digest + ordered adapter digests: what a (model, version) is made of), so
// an entry can never be stale. A miss builds the model once: concurrent
// callers for the same key wait for that one build. The builder warms the
// model up before it is published, so a version serves only when warm.
// Eviction drops the least recently used entries until the new one fits; a
// model in use stays alive (shared ownership) until its callers finish.
//
// Thread-safe.
#ifndef STAMINA_SAMPLER_FOLDED_MODEL_CACHE_H_
#define STAMINA_SAMPLER_FOLDED_MODEL_CACHE_H_

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "worker/model_builder.h"

namespace stamina::sampler {

class FoldedModelCache {
 public:
  using Model = std::shared_ptr<worker::FoldedModel>;
  using Builder = std::function<absl::StatusOr<Model>()>;

  struct Stats {
    int64_t hits = 0;
    int64_t misses = 0;
    int64_t evictions = 0;
    int64_t bytes = 0;  // of the cached entries
    int64_t entries = 0;
  };

  explicit FoldedModelCache(int64_t budget_bytes) : budget_bytes_(budget_bytes) {}

  // The model for `key`, built with `build` on a miss. `*built` (optional)
  // says whether this call waited for a build. RESOURCE_EXHAUSTED when the
  // model alone is over the budget; a failed build is not cached.
  absl::StatusOr<Model> Get(const std::string& key, const Builder& build,
                            bool* built = nullptr);

  bool Contains(const std::string& key) const;

  // Drops the entries whose key `doomed` accepts (a model in use stays alive
  // until its callers finish); returns how many.
  int EraseIf(const std::function<bool(const std::string& key)>& doomed);
  Stats stats() const;

  // The cached entries' keys and sizes, most recently used first.
  struct EntryInfo {
    std::string key;
    int64_t bytes = 0;
  };
  std::vector<EntryInfo> Entries() const;

 private:
  struct Entry {
    Model model;
    int64_t bytes = 0;
    std::list<std::string>::iterator lru;  // position in lru_
  };
  struct InFlight {
    absl::Notification done;
    absl::StatusOr<Model> result = absl::UnknownError("building");
  };

  absl::StatusOr<Model> Insert(const std::string& key, Model model)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int64_t budget_bytes_;
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);  // most recent first
  std::map<std::string, std::shared_ptr<InFlight>> building_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stamina::sampler

#endif  // STAMINA_SAMPLER_FOLDED_MODEL_CACHE_H_
