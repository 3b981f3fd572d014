#include "rpc/internal_auth.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "storage/sha256.h"

namespace stamina::rpc {
namespace {

constexpr size_t kMinTokenLength = 32;

// Hex SHA-256: a fixed length whatever the secret's, so that comparing two
// digests with CRYPTO_memcmp takes the same time for any pair.
std::string DigestOf(absl::string_view secret) {
  return storage::Sha256Hex(secret);
}

}  // namespace

bool SecretFileModeIsPrivate(const SecretFileOwnership& file) {
  if ((file.mode & S_IRWXO) != 0) return false;
  if ((file.mode & S_IRWXG) == 0) return true;
  // A Kubernetes Secret volume with the pod's fsGroup: owned by root (the
  // kubelet), read-only for this process's own group, and this process is
  // not root. Nobody but root and that group can read it.
  return file.uid == 0 && file.process_uid != 0 && file.gid == file.process_gid &&
         (file.mode & (S_IWGRP | S_IXGRP)) == 0;
}

namespace {

// The bytes of a file only its owner (or, see SecretFileModeIsPrivate, its
// root owner and this process's own group) may read.
absl::StatusOr<std::string> ReadPrivateFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return absl::PermissionDeniedError(absl::StrCat(path, ": cannot open"));
  }
  struct stat info;
  if (fstat(fd, &info) != 0 || !SecretFileModeIsPrivate({.mode = info.st_mode,
                                                         .uid = info.st_uid,
                                                         .gid = info.st_gid,
                                                         .process_uid = geteuid(),
                                                         .process_gid = getegid()})) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": group or others may read this secret; chmod 600 it"));
  }
  std::string bytes;
  char buffer[4096];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    bytes.append(buffer, static_cast<size_t>(n));
    if (bytes.size() > (1 << 20)) break;  // no secret file is this large
  }
  close(fd);
  return bytes;
}

absl::StatusOr<InternalRole> ParseRole(absl::string_view word) {
  if (word == "worker") return InternalRole::kWorker;
  if (word == "sampler") return InternalRole::kSampler;
  if (word == "admin") return InternalRole::kAdmin;
  return absl::InvalidArgumentError(
      absl::StrCat("role \"", word.substr(0, 40), "\" is not worker, sampler or admin"));
}

}  // namespace

absl::string_view RoleName(InternalRole role) {
  switch (role) {
    case InternalRole::kWorker:
      return "worker";
    case InternalRole::kSampler:
      return "sampler";
    case InternalRole::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::optional<absl::string_view> BearerCredential(absl::string_view authorization) {
  constexpr absl::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  absl::string_view credential = absl::StripLeadingAsciiWhitespace(
      authorization.substr(kScheme.size()));
  if (credential.empty()) return std::nullopt;
  return credential;
}

bool SecretsEqual(absl::string_view a, absl::string_view b) {
  const std::string da = DigestOf(a);
  const std::string db = DigestOf(b);
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

absl::StatusOr<InternalTokens> InternalTokens::FromEntries(std::vector<Entry> entries) {
  InternalTokens tokens;
  std::set<std::pair<InternalRole, std::string>> names;
  std::set<std::string> digests;
  for (size_t i = 0; i < entries.size(); ++i) {
    Entry& entry = entries[i];
    const std::string where = absl::StrCat("entry ", i + 1, " (", RoleName(entry.principal.role),
                                           " ", entry.principal.name.substr(0, 80), ")");
    if (entry.principal.name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": name: required"));
    }
    if (entry.token.size() < kMinTokenLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": token: at least ", kMinTokenLength, " characters (e.g. `openssl rand -hex 32`)"));
    }
    if (!names.insert({entry.principal.role, entry.principal.name}).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": repeated"));
    }
    std::string digest = DigestOf(entry.token);
    if (!digests.insert(digest).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": token: the same as an earlier entry's"));
    }
    tokens.entries_.push_back({.principal = std::move(entry.principal),
                               .token = std::move(entry.token),
                               .digest = std::move(digest)});
  }
  return tokens;
}

absl::StatusOr<InternalTokens> InternalTokens::ReadFile(const std::string& path) {
  STAMINA_ASSIGN_OR_RETURN(std::string text, ReadPrivateFile(path));
  std::vector<Entry> entries;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() != 3) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, " line ", line_number, ": expected `role name token`, found ", words.size(),
          " words"));
    }
    auto role = ParseRole(words[0]);
    if (!role.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " line ", line_number, ": ", role.status().message()));
    }
    entries.push_back({.principal = {.role = *role, .name = std::string(words[1])},
                       .token = std::string(words[2])});
  }
  auto tokens = FromEntries(std::move(entries));
  if (!tokens.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", tokens.status().message()));
  }
  return tokens;
}

absl::StatusOr<InternalPrincipal> InternalTokens::Authenticate(
    const grpc::ServerContext& call, InternalRole role, absl::string_view service) const {
  const auto& metadata = call.client_metadata();
  const auto it = metadata.find("authorization");
  absl::string_view presented;
  if (it != metadata.end()) {
    presented = absl::string_view(it->second.data(), it->second.size());
  }
  return AuthenticateHeader(presented, role, service);
}

absl::StatusOr<InternalPrincipal> InternalTokens::AuthenticateHeader(
    absl::string_view presented, InternalRole role, absl::string_view service) const {
  const std::optional<absl::string_view> credential = BearerCredential(presented);
  if (!credential.has_value()) {
    return absl::UnauthenticatedError(
        absl::StrCat(service, " needs `authorization: Bearer <internal token>`"));
  }
  presented = *credential;
  const std::string digest = DigestOf(presented);
  const Stored* match = nullptr;
  for (const Stored& entry : entries_) {  // every entry, whatever matches
    if (CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0) {
      match = &entry;
    }
  }
  if (match == nullptr) {
    return absl::UnauthenticatedError(absl::StrCat(service, ": unknown internal token"));
  }
  if (match->principal.role != role) {
    return absl::PermissionDeniedError(absl::StrCat(
        service, " is for ", RoleName(role), " tokens; this is ", RoleName(match->principal.role),
        " \"", match->principal.name, "\"'s"));
  }
  return match->principal;
}

absl::StatusOr<std::string> InternalTokens::TokenOf(InternalRole role,
                                                    absl::string_view name) const {
  for (const Stored& entry : entries_) {
    if (entry.principal.role == role && entry.principal.name == name) return entry.token;
  }
  return absl::NotFoundError(
      absl::StrCat("no ", RoleName(role), " \"", name, "\" in the internal tokens"));
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  STAMINA_ASSIGN_OR_RETURN(std::string text, ReadPrivateFile(path));
  std::string secret(absl::StripAsciiWhitespace(text));
  if (secret.size() < kMinTokenLength ||
      secret.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": expected one token of at least ", kMinTokenLength, " characters"));
  }
  return secret;
}

absl::StatusOr<std::string> SecretFromFileOrEnvironment(const std::string& file,
                                                        const char* environment,
                                                        absl::string_view flag) {
  if (!file.empty()) {
    auto secret = ReadSecretFile(file);
    if (!secret.ok()) {
      return absl::Status(secret.status().code(),
                          absl::StrCat(flag, ": ", secret.status().message()));
    }
    return secret;
  }
  const char* value = std::getenv(environment);
  if (value != nullptr && *value != '\0') return std::string(value);
  return absl::InvalidArgumentError(
      absl::StrCat(flag, ": required (or set $", environment, ")"));
}

}  // namespace stamina::rpc
