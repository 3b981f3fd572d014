#include "storage/testing/in_memory_blob_store.h"

#include "absl/strings/str_cat.h"
#include "storage/sha256.h"

namespace stamina::storage {
absl::StatusOr<std::string> InMemoryBlobStore::Put(absl::string_view bytes) {
  std::string digest = Sha256Hex(bytes);
  absl::MutexLock lock(&mu_);
  blobs_.try_emplace(digest, Entry{std::string(bytes), clock_->Now()});
  return digest;
}

absl::StatusOr<std::string> InMemoryBlobStore::Get(absl::string_view digest) {
  if (absl::Status s = ValidateSha256Hex(digest); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  auto it = blobs_.find(std::string(digest));
  if (it == blobs_.end()) {
    return absl::NotFoundError(absl::StrCat("blob ", digest, " not found"));
  }
  if (Sha256Hex(it->second.bytes) != digest) {
    return absl::DataLossError(absl::StrCat("blob ", digest, " is corrupt"));
  }
  return it->second.bytes;
}

absl::StatusOr<bool> InMemoryBlobStore::Has(absl::string_view digest) {
  if (absl::Status s = ValidateSha256Hex(digest); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  return blobs_.count(std::string(digest)) > 0;
}

absl::Status InMemoryBlobStore::Delete(absl::string_view digest) {
  if (absl::Status s = ValidateSha256Hex(digest); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  blobs_.erase(std::string(digest));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<BlobInfo>> InMemoryBlobStore::List() {
  absl::MutexLock lock(&mu_);
  std::vector<BlobInfo> out;
  for (const auto& [digest, entry] : blobs_) {
    out.push_back({.digest = digest,
                   .size_bytes = static_cast<int64_t>(entry.bytes.size()),
                   .modify_time = entry.modify_time});
  }
  return out;
}

void InMemoryBlobStore::Corrupt(const std::string& digest) {
  absl::MutexLock lock(&mu_);
  auto it = blobs_.find(digest);
  if (it == blobs_.end()) return;
  if (it->second.bytes.empty()) {
    it->second.bytes = "x";
  } else {
    it->second.bytes[0] = static_cast<char>(it->second.bytes[0] ^ 0x55);
  }
}

}  // namespace stamina::storage
