// File: rpc/internal_auth.h
//
// Who may call staminad's internal listener, and how the internal binaries
// read their own secret. Every internal principal (a training-worker pool, a
// sampler replica, an operator) has a token of its own, read from a file,
// never from a flag (flags show in `ps` and in pod specs):
//
//   # role    name                      token (>= 32 characters)
//   worker    gpu-pool                  3f9c...
//   sampler   sampler-0.sampler:7071    a81e...
//   admin     ops                       77d0...
//
// A sampler's name is its address as staminad dials it (--sampler_backends):
// staminad presents that replica's token when it calls the replica, and the
// replica presents the same token when it reads blobs back, so each replica
// is told apart (server/blob_grants.h scopes what it may read).
//
// Tokens are kept as SHA-256 digests and compared in constant time against
// every entry. Token files must not be readable by group or others.
// Thread-safe: InternalTokens is immutable after ReadFile.
#ifndef STAMINA_RPC_INTERNAL_AUTH_H_
#define STAMINA_RPC_INTERNAL_AUTH_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"

namespace stamina::rpc {

enum class InternalRole { kWorker, kSampler, kAdmin };

absl::string_view RoleName(InternalRole role);

struct InternalPrincipal {
  InternalRole role = InternalRole::kWorker;
  std::string name;
};

class InternalTokens {
 public:
  struct Entry {
    InternalPrincipal principal;
    std::string token;
  };

  // Parses a tokens file (format above; '#' comments and blank lines
  // allowed). NOT_FOUND for a missing file, FAILED_PRECONDITION when group or
  // others may read it, INVALID_ARGUMENT naming the line for a bad role, a
  // short token, a repeated (role, name) or a repeated token.
  static absl::StatusOr<InternalTokens> ReadFile(const std::string& path);
  // The same checks on entries made in memory (tests, embedding).
  static absl::StatusOr<InternalTokens> FromEntries(std::vector<Entry> entries);

  // The principal whose token the call presents (`authorization: Bearer
  // <token>`): UNAUTHENTICATED when none does, PERMISSION_DENIED naming
  // `service` when its role is not `role`.
  absl::StatusOr<InternalPrincipal> Authenticate(const grpc::ServerContext& call,
                                                 InternalRole role,
                                                 absl::string_view service) const;
  // The same for the metadata value itself (empty when absent).
  absl::StatusOr<InternalPrincipal> AuthenticateHeader(absl::string_view authorization,
                                                       InternalRole role,
                                                       absl::string_view service) const;
  // The token of (role, name), for calling that principal (staminad calling a
  // sampler replica): NOT_FOUND when the file has none.
  absl::StatusOr<std::string> TokenOf(InternalRole role, absl::string_view name) const;

  bool empty() const { return entries_.empty(); }

 private:
  struct Stored {
    InternalPrincipal principal;
    std::string token;   // kept for TokenOf (a replica's token is sent to it)
    std::string digest;  // raw SHA-256 of the token
  };
  std::vector<Stored> entries_;
};

// Whether a secret file's mode keeps it private: others may never read it;
// its group may only in the one case of a Kubernetes Secret volume mounted
// with the pod's fsGroup (owned by root, group = this process's own group,
// read-only for it, and this process not root), which is how a non-root
// container is given a secret at all.
struct SecretFileOwnership {
  unsigned mode = 0;  // st_mode
  unsigned uid = 0, gid = 0;
  unsigned process_uid = 0, process_gid = 0;  // effective ids of the reader
};
bool SecretFileModeIsPrivate(const SecretFileOwnership& file);

// The whole content of a secret file, surrounding whitespace removed:
// NOT_FOUND when missing, FAILED_PRECONDITION when group or others may read
// it (but see SecretFileModeIsPrivate), INVALID_ARGUMENT when empty or
// shorter than 32 characters.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

// `token` from a file when `file` is set, else $`environment` (an orchestrator
// may inject secrets either way); INVALID_ARGUMENT naming `flag` when neither
// gives one.
absl::StatusOr<std::string> SecretFromFileOrEnvironment(const std::string& file,
                                                        const char* environment,
                                                        absl::string_view flag);

// The credential of an `authorization` metadata value `Bearer <credential>`,
// the scheme matched case-insensitively (RFC 7235); nullopt when the value
// has another form or an empty credential.
std::optional<absl::string_view> BearerCredential(absl::string_view authorization);

// Constant-time equality of two secrets (their SHA-256 digests are compared,
// so neither length nor a common prefix shows in the time taken).
bool SecretsEqual(absl::string_view a, absl::string_view b);

}  // namespace stamina::rpc

#endif  // STAMINA_RPC_INTERNAL_AUTH_H_
