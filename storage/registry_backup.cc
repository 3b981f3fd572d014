// File: storage/registry_backup.cc
#include "storage/registry_backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace stamina::storage {
namespace {

constexpr char kPrefix[] = "registry-";
constexpr char kSuffix[] = ".db";

absl::Status FsyncPath(const std::string& path, int flags) {
  const int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("backup: cannot open ", path));
  const int rc = fsync(fd);
  close(fd);
  if (rc != 0) return absl::UnavailableError(absl::StrCat("backup: fsync of ", path, " failed"));
  return absl::OkStatus();
}

// Copies `source` (inside a read transaction) into a new file at `path`.
absl::Status CopyInto(sqlite3* source, const std::string& path) {
  sqlite3* target = nullptr;
  if (sqlite3_open_v2(path.c_str(), &target, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    const std::string why = target != nullptr ? sqlite3_errmsg(target) : "out of memory";
    sqlite3_close(target);
    return absl::UnavailableError(absl::StrCat("backup: cannot create ", path, ": ", why));
  }
  absl::Status status;
  sqlite3_backup* backup = sqlite3_backup_init(target, "main", source, "main");
  if (backup == nullptr) {
    status = absl::InternalError(absl::StrCat("backup: ", sqlite3_errmsg(target)));
  } else {
    // All pages in one step: one snapshot of the source, never restarted.
    const int stepped = sqlite3_backup_step(backup, -1);
    const int finished = sqlite3_backup_finish(backup);
    if (stepped != SQLITE_DONE || finished != SQLITE_OK) {
      status = absl::UnavailableError(absl::StrCat("backup: copy failed: ", sqlite3_errstr(stepped),
                                                   " / ", sqlite3_errstr(finished)));
    }
  }
  if (status.ok()) {
    sqlite3_stmt* check = nullptr;
    if (sqlite3_prepare_v2(target, "PRAGMA quick_check", -1, &check, nullptr) != SQLITE_OK ||
        sqlite3_step(check) != SQLITE_ROW ||
        std::string(reinterpret_cast<const char*>(sqlite3_column_text(check, 0))) != "ok") {
      status = absl::DataLossError(absl::StrCat("backup: quick_check of ", path, " failed"));
    }
    sqlite3_finalize(check);
  }
  sqlite3_close(target);
  return status;
}

// The directory's backup file names, oldest first.
std::vector<std::string> BackupsIn(const std::string& directory) {
  std::vector<std::string> names;
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) return names;
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (absl::StartsWith(name, kPrefix) && absl::EndsWith(name, kSuffix)) names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

absl::StatusOr<RegistryBackup> BackUpRegistry(RegistryDatabase& registry,
                                              const RegistryBackupOptions& options) {
  if (options.keep < 0) return absl::InvalidArgumentError("keep: must be 0 (all) or more");
  if (options.directory.empty()) return absl::InvalidArgumentError("backup directory: empty");
  if (mkdir(options.directory.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(absl::StrCat("backup: cannot create ", options.directory));
  }
  RegistryBackup result;
  result.path =
      absl::StrCat(options.directory, "/", kPrefix,
                   absl::FormatTime("%Y%m%dT%H%M%E3SZ", options.now, absl::UTCTimeZone()), kSuffix);
  const std::string partial = result.path + ".partial";
  unlink(partial.c_str());
  absl::Status copied = registry.Read([&](Database& db) -> absl::Status {
    if (db.path() == ":memory:") {
      return absl::FailedPreconditionError("backup: the registry is in memory");
    }
    return CopyInto(db.raw(), partial);
  });
  if (copied.ok()) copied = FsyncPath(partial, O_RDONLY);
  if (copied.ok() && rename(partial.c_str(), result.path.c_str()) != 0) {
    copied = absl::UnavailableError(absl::StrCat("backup: cannot rename to ", result.path));
  }
  if (!copied.ok()) {
    unlink(partial.c_str());
    return copied;
  }
  STAMINA_RETURN_IF_ERROR(FsyncPath(options.directory, O_RDONLY | O_DIRECTORY));
  struct stat info;
  if (stat(result.path.c_str(), &info) == 0) result.bytes = info.st_size;

  if (options.keep > 0) {
    std::vector<std::string> names = BackupsIn(options.directory);
    for (size_t i = 0; i + options.keep < names.size(); ++i) {
      if (unlink(absl::StrCat(options.directory, "/", names[i]).c_str()) == 0) ++result.pruned;
    }
  }
  return result;
}

}  // namespace stamina::storage
