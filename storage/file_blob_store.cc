#include "storage/file_blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/sha256.h"

namespace stamina::storage {
namespace {

absl::Status ErrnoStatus(int error, absl::string_view what) {
  const std::string message = absl::StrCat(what, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
      return absl::NotFoundError(message);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::FailedPreconditionError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return absl::OkStatus();
  return ErrnoStatus(errno, absl::StrCat("mkdir ", path));
}

absl::Status SyncPath(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("open ", path));
  const int rc = fsync(fd);
  const int error = errno;
  close(fd);
  if (rc != 0) return ErrnoStatus(error, absl::StrCat("fsync ", path));
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, absl::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat("write ", path));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}


std::atomic<uint64_t> temp_counter{0};

}  // namespace

absl::StatusOr<std::unique_ptr<FileBlobStore>> FileBlobStore::Create(
    Options options) {
  if (options.root.empty()) return absl::InvalidArgumentError("root: required");
  STAMINA_RETURN_IF_ERROR(MakeDir(options.root));
  const std::string tmp = options.root + "/tmp";
  STAMINA_RETURN_IF_ERROR(MakeDir(tmp));
  // Temp files are never valid blobs: leftovers of a crash are removed.
  if (DIR* dir = opendir(tmp.c_str())) {
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') unlink((tmp + "/" + entry->d_name).c_str());
    }
    closedir(dir);
  }
  return std::unique_ptr<FileBlobStore>(new FileBlobStore(options.root));
}

std::string FileBlobStore::PathOf(absl::string_view digest) const {
  return absl::StrCat(root_, "/", digest.substr(0, 2), "/", digest);
}

absl::StatusOr<std::string> FileBlobStore::Put(absl::string_view bytes) {
  const std::string digest = Sha256Hex(bytes);
  const std::string path = PathOf(digest);
  // Bytes already stored are written and synced again all the same (the
  // rename replaces them with identical bytes): storage is shared across
  // tenants, and an upload that returned faster when someone else already
  // held the photo would tell the uploader so.
  const std::string fan_out = absl::StrCat(root_, "/", digest.substr(0, 2));
  STAMINA_RETURN_IF_ERROR(MakeDir(fan_out));
  const std::string temp =
      absl::StrCat(root_, "/tmp/", digest, ".", getpid(), ".", temp_counter++);
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("create ", temp));
  absl::Status written = WriteAll(fd, bytes, temp);
  if (written.ok() && fsync(fd) != 0) {
    written = ErrnoStatus(errno, absl::StrCat("fsync ", temp));
  }
  close(fd);
  if (written.ok() && rename(temp.c_str(), path.c_str()) != 0) {
    written = ErrnoStatus(errno, absl::StrCat("rename to ", path));
  }
  if (!written.ok()) {
    unlink(temp.c_str());
    return written;
  }
  STAMINA_RETURN_IF_ERROR(SyncPath(fan_out));
  STAMINA_RETURN_IF_ERROR(SyncPath(root_));
  return digest;
}

absl::StatusOr<std::string> FileBlobStore::Get(absl::string_view digest) {
  STAMINA_RETURN_IF_ERROR(ValidateSha256Hex(digest));
  const std::string path = PathOf(digest);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("blob ", digest, " not found"));
    }
    return ErrnoStatus(errno, absl::StrCat("open ", path));
  }
  std::string bytes;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      close(fd);
      return ErrnoStatus(error, absl::StrCat("read ", path));
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  if (Sha256Hex(bytes) != digest) {
    return absl::DataLossError(absl::StrCat(
        "blob ", digest, " is corrupt: its ", bytes.size(),
        " bytes hash to something else"));
  }
  return bytes;
}

absl::StatusOr<bool> FileBlobStore::Has(absl::string_view digest) {
  STAMINA_RETURN_IF_ERROR(ValidateSha256Hex(digest));
  struct stat info;
  if (stat(PathOf(digest).c_str(), &info) == 0) return true;
  if (errno == ENOENT) return false;
  return ErrnoStatus(errno, absl::StrCat("stat ", PathOf(digest)));
}

absl::Status FileBlobStore::Delete(absl::string_view digest) {
  STAMINA_RETURN_IF_ERROR(ValidateSha256Hex(digest));
  if (unlink(PathOf(digest).c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, absl::StrCat("unlink ", PathOf(digest)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<BlobInfo>> FileBlobStore::List() {
  std::vector<BlobInfo> blobs;
  DIR* root = opendir(root_.c_str());
  if (root == nullptr) return ErrnoStatus(errno, absl::StrCat("opendir ", root_));
  while (dirent* fan = readdir(root)) {
    const std::string prefix = fan->d_name;
    if (prefix.size() != 2) continue;  // ".", "..", "tmp"
    const std::string dir_path = absl::StrCat(root_, "/", prefix);
    DIR* dir = opendir(dir_path.c_str());
    if (dir == nullptr) continue;
    while (dirent* entry = readdir(dir)) {
      const std::string name = entry->d_name;
      if (!IsSha256Hex(name)) continue;
      struct stat info;
      if (stat((dir_path + "/" + name).c_str(), &info) != 0) continue;
      blobs.push_back({.digest = name,
                       .size_bytes = info.st_size,
                       .modify_time = absl::FromTimeT(info.st_mtime)});
    }
    closedir(dir);
  }
  closedir(root);
  std::sort(blobs.begin(), blobs.end(),
            [](const BlobInfo& a, const BlobInfo& b) { return a.digest < b.digest; });
  return blobs;
}

}  // namespace stamina::storage
