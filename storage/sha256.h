// File: storage/sha256.h
//
// SHA-256 as lowercase hex, the content address of every blob and the only
// form in which API-key secrets are stored; and unpredictable secrets.
// Thread-safe.
#ifndef STAMINA_STORAGE_SHA256_H_
#define STAMINA_STORAGE_SHA256_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace stamina::storage {

// SHA-256 of `bytes`, 64 lowercase hex characters.
std::string Sha256Hex(absl::string_view bytes);

// Incremental hashing for streams.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(absl::string_view bytes);
  // The digest of everything passed to Update(); call once.
  std::string FinishHex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Whether `digest` is 64 lowercase hex characters.
bool IsSha256Hex(absl::string_view digest);

// OK for a SHA-256 hex digest; INVALID_ARGUMENT naming `field` otherwise.
absl::Status ValidateSha256Hex(absl::string_view digest,
                               absl::string_view field = "digest");

// `bytes` cryptographically random bytes as lowercase hex (OpenSSL RAND).
std::string RandomHex(size_t bytes);

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_SHA256_H_
