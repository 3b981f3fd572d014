// File: server/blob_grants.h
//
// BlobGrants: which blobs each sampler replica may read back through the
// internal BlobService. A replica may read only the adapters of the models
// staminad sent it (a Sample or Warm recipe), and only for a while after:
// RemoteSampleRouter grants a recipe's adapter digests to the replica just
// before sending it the call, and ReadBlob asks IsGranted. A replica that
// leaks its token therefore exposes only what it was already serving, never
// uploaded photos or other tenants' models.
//
// Bounded: each replica keeps at most max_per_replica digests (the least
// recently granted go first) for at most ttl after their last grant.
// Thread-safe.
#ifndef STAMINA_SERVER_BLOB_GRANTS_H_
#define STAMINA_SERVER_BLOB_GRANTS_H_

#include <cstddef>
#include <list>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace stamina::server {

class BlobGrants {
 public:
  struct Options {
    absl::Duration ttl = absl::Hours(1);
    size_t max_per_replica = 4096;
    Clock* clock = Clock::Real();  // not owned
  };
  explicit BlobGrants(Options options) : options_(options) {}

  // Lets `replica` read `digests` for the next ttl (renewed when granted again).
  void Grant(const std::string& replica, const std::vector<std::string>& digests);
  bool IsGranted(const std::string& replica, const std::string& digest);

 private:
  struct Granted {
    std::list<std::string> order;  // most recently granted first
    std::map<std::string, std::pair<absl::Time, std::list<std::string>::iterator>> until;
  };
  const Options options_;
  absl::Mutex mu_;
  std::map<std::string, Granted> replicas_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_BLOB_GRANTS_H_
