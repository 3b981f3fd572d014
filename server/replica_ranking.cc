#include "server/replica_ranking.h"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace stamina::server {
namespace {

// FNV-1a, 64 bits.
uint64_t Fnv1a(absl::string_view bytes, uint64_t hash) {
  for (const char c : bytes) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

// SplitMix64's finalizer: FNV's low bits mix poorly on their own.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace

uint64_t RendezvousWeight(absl::string_view key, absl::string_view replica) {
  uint64_t hash = Fnv1a(key, 0xcbf29ce484222325ull);
  hash = Fnv1a(absl::string_view("\0", 1), hash);  // "ab"+"c" differs from "a"+"bc"
  return Mix(Fnv1a(replica, hash));
}

std::vector<int> RankReplicas(absl::string_view key,
                              const std::vector<std::string>& replicas) {
  std::vector<uint64_t> weights;
  weights.reserve(replicas.size());
  for (const std::string& replica : replicas) {
    weights.push_back(RendezvousWeight(key, replica));
  }
  std::vector<int> order(replicas.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return std::tie(weights[b], replicas[a], a) < std::tie(weights[a], replicas[b], b);
  });
  return order;
}

}  // namespace stamina::server
