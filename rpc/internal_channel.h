// File: rpc/internal_channel.h
//
// How stamina-worker (WorkQueue) and stamina-sampler (BlobService) reach
// staminad's internal services: a channel to its address, plaintext or TLS
// (tls_credentials.h), and the internal token they present, read from a
// private file or, without one, from $STAMINA_INTERNAL_TOKEN (never a flag:
// flags show in `ps`). The server side of the check is internal_auth.h.
// Thread-safe: a function of its arguments (and the environment and files).
#ifndef STAMINA_RPC_INTERNAL_CHANNEL_H_
#define STAMINA_RPC_INTERNAL_CHANNEL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "rpc/tls_credentials.h"

namespace stamina::rpc {

struct InternalClientOptions {
  std::string address;     // host:port of staminad's internal listener
  std::string token_file;  // empty: $STAMINA_INTERNAL_TOKEN
  ClientTls tls;
};

struct InternalChannel {
  std::shared_ptr<grpc::Channel> channel;
  std::string token;
};

// Errors as ChannelCredentialsFor (the CA file) and
// SecretFromFileOrEnvironment (the token, naming --internal_token_file). The
// channel connects lazily: an unreachable address shows on the first call.
absl::StatusOr<InternalChannel> DialInternal(const InternalClientOptions& options);

}  // namespace stamina::rpc

#endif  // STAMINA_RPC_INTERNAL_CHANNEL_H_
