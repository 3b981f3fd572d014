// File: storage/file_blob_store.h
//
// BlobStore on a directory: `<root>/<first 2 hex>/<digest>`. Writes go to
// `<root>/tmp/` first, are fsynced, renamed into place and the directory is
// fsynced, so a crash leaves either the whole blob or nothing (plus, at worst,
// a temp file that the next Create() removes). Reads re-hash the bytes.
//
// This class is thread-safe; several processes may share a root (rename is
// atomic and content-addressed writes never conflict).
#ifndef STAMINA_STORAGE_FILE_BLOB_STORE_H_
#define STAMINA_STORAGE_FILE_BLOB_STORE_H_

#include <memory>
#include <string>

#include "storage/blob_store.h"

namespace stamina::storage {

class FileBlobStore final : public BlobStore {
 public:
  struct Options {
    std::string root;  // created if missing
  };
  static absl::StatusOr<std::unique_ptr<FileBlobStore>> Create(Options options);

  absl::StatusOr<std::string> Put(absl::string_view bytes) override;
  absl::StatusOr<std::string> Get(absl::string_view digest) override;
  absl::StatusOr<bool> Has(absl::string_view digest) override;
  absl::Status Delete(absl::string_view digest) override;
  absl::StatusOr<std::vector<BlobInfo>> List() override;

  // Where `digest` lives (whether or not it exists).
  std::string PathOf(absl::string_view digest) const;

 private:
  explicit FileBlobStore(std::string root) : root_(std::move(root)) {}

  const std::string root_;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_FILE_BLOB_STORE_H_
