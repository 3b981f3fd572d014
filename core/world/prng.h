// File: core/world/prng.h
//
// Owns the world's random numbers: SplitMix64 (Steele, Lea, Flood 2014) with
// explicit integer-to-range mappings, so every draw is the same on every
// compiler and standard library (std::uniform_*_distribution is not).
// Not thread-safe: one generator per thread; generators are cheap to copy.
#ifndef STAMINA_CORE_WORLD_PRNG_H_
#define STAMINA_CORE_WORLD_PRNG_H_

#include <cstdint>

namespace stamina::core {

// Scrambles one 64-bit value (the SplitMix64 output function).
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Derives an independent stream seed from a seed and a purpose tag.
inline uint64_t DeriveSeed(uint64_t seed, uint64_t tag) {
  return Mix64(seed ^ Mix64(tag + 0x9e3779b97f4a7c15ULL));
}

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return Mix64(state_);
  }

  // Uniform in [0, n); n > 0. Multiply-shift on the top 32 bits (bias below
  // 2^-32 for the small n used here).
  uint32_t Below(uint32_t n) {
    return static_cast<uint32_t>(((Next() >> 32) * n) >> 32);
  }

  // Uniform in [0, 1) with 53 random bits.
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Unit(); }

  bool Bernoulli(double p) { return Unit() < p; }

 private:
  uint64_t state_;
};

}  // namespace stamina::core

#endif  // STAMINA_CORE_WORLD_PRNG_H_
