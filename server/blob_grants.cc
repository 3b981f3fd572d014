#include "server/blob_grants.h"

namespace stamina::server {

void BlobGrants::Grant(const std::string& replica,
                       const std::vector<std::string>& digests) {
  const absl::Time until = options_.clock->Now() + options_.ttl;
  absl::MutexLock lock(&mu_);
  Granted& granted = replicas_[replica];
  for (const std::string& digest : digests) {
    auto it = granted.until.find(digest);
    if (it != granted.until.end()) granted.order.erase(it->second.second);
    granted.order.push_front(digest);
    granted.until[digest] = {until, granted.order.begin()};
    while (granted.order.size() > options_.max_per_replica) {
      granted.until.erase(granted.order.back());
      granted.order.pop_back();
    }
  }
}

bool BlobGrants::IsGranted(const std::string& replica, const std::string& digest) {
  const absl::Time now = options_.clock->Now();
  absl::MutexLock lock(&mu_);
  auto granted = replicas_.find(replica);
  if (granted == replicas_.end()) return false;
  auto it = granted->second.until.find(digest);
  if (it == granted->second.until.end()) return false;
  if (it->second.first >= now) return true;
  granted->second.order.erase(it->second.second);
  granted->second.until.erase(it);
  return false;
}

}  // namespace stamina::server
