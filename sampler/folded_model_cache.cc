#include "sampler/folded_model_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace stamina::sampler {

absl::StatusOr<FoldedModelCache::Model> FoldedModelCache::Get(
    const std::string& key, const Builder& build, bool* built) {
  if (built != nullptr) *built = false;
  std::shared_ptr<InFlight> flight;
  bool builder = false;
  {
    absl::MutexLock lock(&mu_);
    const auto it = entries_.find(key);
    if (it != entries_.end()) {
      ++stats_.hits;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.model;
    }
    ++stats_.misses;
    auto& slot = building_[key];
    if (slot == nullptr) {
      slot = std::make_shared<InFlight>();
      builder = true;
    }
    flight = slot;
  }
  if (built != nullptr) *built = true;
  if (!builder) {
    flight->done.WaitForNotification();
    return flight->result;
  }
  absl::StatusOr<Model> model = build();
  absl::MutexLock lock(&mu_);
  flight->result = model.ok() ? Insert(key, *std::move(model)) : model.status();
  building_.erase(key);
  flight->done.Notify();
  return flight->result;
}

absl::StatusOr<FoldedModelCache::Model> FoldedModelCache::Insert(
    const std::string& key, Model model) {
  const int64_t bytes = model->parameter_bytes;
  if (bytes > budget_bytes_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the model needs ", bytes, " bytes; the sampler's cache budget is ",
        budget_bytes_));
  }
  while (stats_.bytes + bytes > budget_bytes_ && !lru_.empty()) {
    const std::string victim = lru_.back();
    lru_.pop_back();
    stats_.bytes -= entries_.at(victim).bytes;
    entries_.erase(victim);
    ++stats_.evictions;
  }
  lru_.push_front(key);
  entries_[key] = Entry{.model = model, .bytes = bytes, .lru = lru_.begin()};
  stats_.bytes += bytes;
  stats_.entries = static_cast<int64_t>(entries_.size());
  return model;
}

bool FoldedModelCache::Contains(const std::string& key) const {
  absl::MutexLock lock(&mu_);
  return entries_.count(key) > 0;
}

int FoldedModelCache::EraseIf(const std::function<bool(const std::string& key)>& doomed) {
  absl::MutexLock lock(&mu_);
  int erased = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!doomed(it->first)) {
      ++it;
      continue;
    }
    stats_.bytes -= it->second.bytes;
    lru_.erase(it->second.lru);
    it = entries_.erase(it);
    ++erased;
  }
  return erased;
}

std::vector<FoldedModelCache::EntryInfo> FoldedModelCache::Entries() const {
  absl::MutexLock lock(&mu_);
  std::vector<EntryInfo> entries;
  for (const std::string& key : lru_) {
    entries.push_back({.key = key, .bytes = entries_.at(key).bytes});
  }
  return entries;
}

FoldedModelCache::Stats FoldedModelCache::stats() const {
  absl::MutexLock lock(&mu_);
  Stats stats = stats_;
  stats.entries = static_cast<int64_t>(entries_.size());
  return stats;
}

}  // namespace stamina::sampler
