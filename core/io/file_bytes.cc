#include "core/io/file_bytes.h"

#include <cerrno>
#include <cstdio>

#include "absl/status/status.h"

namespace stamina::core {

absl::StatusOr<std::string> ReadFileBytes(absl::string_view path) {
  const std::string p(path);
  std::FILE* f = std::fopen(p.c_str(), "rb");
  if (f == nullptr) return absl::ErrnoToStatus(errno, "opening " + p);
  std::string bytes;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) bytes.append(buf, n);
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) return absl::DataLossError("reading " + p + " failed");
  return bytes;
}

}  // namespace stamina::core
