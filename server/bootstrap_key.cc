#include "server/bootstrap_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace stamina::server {
namespace {

absl::Status WriteNewPrivateFile(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const bool ok = written == text.size() && fsync(fd) == 0;
  close(fd);
  if (!ok) {
    unlink(path.c_str());
    return absl::DataLossError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status BootstrapTenant(storage::TenantStore& tenants, const std::string& tenant,
                             const std::string& key_file,
                             const std::function<void(const std::string&)>& log) {
  if (!tenants.GetTenant(tenant).ok()) {
    STAMINA_RETURN_IF_ERROR(tenants.CreateTenant(tenant, tenant).status());
    log(absl::StrCat("audit: bootstrap created tenant ", tenant));
  }
  struct stat existing;
  if (stat(key_file.c_str(), &existing) == 0) {
    log(absl::StrCat("bootstrap tenant ", tenant, ": its key file ", key_file,
                     " exists; no new key"));
    return absl::OkStatus();
  }
  STAMINA_ASSIGN_OR_RETURN(storage::NewApiKey key,
                           tenants.CreateApiKey(tenant, {.label = "bootstrap"}));
  const absl::Status written = WriteNewPrivateFile(key_file, key.secret + "\n");
  if (!written.ok()) {
    (void)tenants.RevokeApiKey(tenant, key.key.id);
    return written;
  }
  log(absl::StrCat("audit: bootstrap created API key ", key.key.id, " for tenant ", tenant,
                   "; its secret is in ", key_file, " (mode 600)"));
  return absl::OkStatus();
}

}  // namespace stamina::server
