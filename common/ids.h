// File: common/ids.h
//
// Resource ids as an injected dependency. Server-assigned ids (jobs, models
// created without a client-chosen id) come from an IdGenerator, so tests get
// predictable ids from SequentialIdGenerator and production gets unguessable
// ones from RandomIdGenerator. ValidateResourceId() enforces the id grammar
// that docs/api.md promises (Google AIP-122).
#ifndef STAMINA_COMMON_IDS_H_
#define STAMINA_COMMON_IDS_H_

#include <cstdint>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace stamina {

// Makes new resource ids. Implementations are thread-safe.
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  // A fresh id that satisfies ValidateResourceId().
  virtual std::string NewId() = 0;
};

// Ids of kRandomIdLength characters: a lowercase letter, then lowercase base32
// ("a"-"z", "2"-"7"), carrying 5 * kRandomIdLength - 0.3 bits of entropy.
class RandomIdGenerator final : public IdGenerator {
 public:
  static constexpr int kRandomIdLength = 20;

  struct Options {
    // 0 seeds from the operating system; any other value gives a repeatable
    // sequence (for benchmarks and reproducible demos, never for production).
    uint64_t seed = 0;
  };
  explicit RandomIdGenerator(Options options);
  RandomIdGenerator() : RandomIdGenerator(Options{}) {}

  std::string NewId() override;

 private:
  absl::Mutex mu_;
  absl::BitGen os_seeded_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<absl::InsecureBitGen> seeded_ ABSL_GUARDED_BY(mu_);
};

// "<prefix>1", "<prefix>2", ... for tests and examples.
class SequentialIdGenerator final : public IdGenerator {
 public:
  // `prefix` must start with a lowercase letter and be a valid id prefix.
  explicit SequentialIdGenerator(std::string prefix = "id");
  std::string NewId() override;

 private:
  const std::string prefix_;
  absl::Mutex mu_;
  int64_t next_ ABSL_GUARDED_BY(mu_) = 1;
};

// The longest resource id accepted (AIP-122).
inline constexpr int kMaxResourceIdLength = 63;

// OK when `id` is 1-63 characters of [a-z0-9-], starts with a letter and does
// not end with a hyphen; INVALID_ARGUMENT naming `field` otherwise.
absl::Status ValidateResourceId(absl::string_view id,
                                absl::string_view field = "id");

// OK when `token` is "<", 1-32 characters of [a-z0-9_-], ">" (e.g.
// "<anna>"); INVALID_ARGUMENT naming `field` otherwise.
absl::Status ValidateConceptToken(absl::string_view token,
                                  absl::string_view field = "token");

}  // namespace stamina

#endif  // STAMINA_COMMON_IDS_H_
