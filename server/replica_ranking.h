// File: server/replica_ranking.h
//
// Rendezvous (highest-random-weight) hashing: which sampler replica serves a
// model. Every (key, replica) pair gets a pseudo-random weight from a fixed
// hash; a key's replicas are ranked by weight, highest first. The first is
// the key's home, the rest its fail-over order. The mapping depends only on
// the key and the replicas' names (not their order or count), so it is the
// same in every front end, and adding an N+1-th replica moves only the ~1/(N+1)
// of keys whose new weight wins; removing one moves only its own keys.
// Thread-safe: pure functions.
#ifndef STAMINA_SERVER_REPLICA_RANKING_H_
#define STAMINA_SERVER_REPLICA_RANKING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace stamina::server {

// The weight of `key` on `replica`: a 64-bit hash, stable across processes,
// builds and platforms.
uint64_t RendezvousWeight(absl::string_view key, absl::string_view replica);

// Indexes into `replicas`, best first (ties broken by name, then index).
std::vector<int> RankReplicas(absl::string_view key,
                              const std::vector<std::string>& replicas);

}  // namespace stamina::server

#endif  // STAMINA_SERVER_REPLICA_RANKING_H_
