// File: rpc/internal_channel.h
//
// How stamina-worker (WorkQueue) and stamina-sampler (BlobService) reach
// staminad's internal services: a channel to its address, plaintext or TLS
// (tls_credentials.h), and the internal token they present, taken from the
// flag or, when that is empty, from $STAMINA_INTERNAL_TOKEN (so that it stays
// out of `ps`). The server side of the check is internal_calls.h.
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
  std::string address;  // host:port of staminad
  std::string token;    // empty: $STAMINA_INTERNAL_TOKEN
  ClientTls tls;
};

struct InternalChannel {
  std::shared_ptr<grpc::Channel> channel;
  std::string token;
};

// Errors as ChannelCredentialsFor (the CA file). The channel connects
// lazily: an unreachable address shows on the first call.
absl::StatusOr<InternalChannel> DialInternal(const InternalClientOptions& options);

}  // namespace stamina::rpc

#endif  // STAMINA_RPC_INTERNAL_CHANNEL_H_
