// File: rpc/internal_calls.h
//
// What the internal services (stamina.internal.v1.WorkQueue for training
// workers, BlobService for sampler replicas) share: the caller check
// (`authorization: Bearer <internal token>`; an empty token refuses every
// call) and streaming a blob in chunks, the first carrying the total size.
// Thread-safe: functions of their arguments.
#ifndef STAMINA_RPC_INTERNAL_CALLS_H_
#define STAMINA_RPC_INTERNAL_CALLS_H_

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"

namespace stamina::rpc {

// UNAUTHENTICATED (naming `service`) unless the call presents `token`
// (compared in constant time). Used by a sampler replica, which has one
// caller: staminad presenting the replica's own token.
absl::Status CheckInternalToken(const grpc::ServerContext& call, absl::string_view token,
                                absl::string_view service);

// Writes `bytes` as messages of at most `chunk_bytes` (one message for an
// empty blob); `Message` has set_size_bytes() and set_chunk(). CANCELLED when
// the reader went away.
template <typename Message, typename Writer>
absl::Status WriteBlobChunks(const std::string& bytes, int chunk_bytes, Writer& writer) {
  size_t offset = 0;
  do {
    Message message;
    if (offset == 0) message.set_size_bytes(static_cast<int64_t>(bytes.size()));
    const size_t n = std::min(bytes.size() - offset, static_cast<size_t>(chunk_bytes));
    message.set_chunk(bytes.substr(offset, n));
    offset += n;
    if (!writer.Write(message)) return absl::CancelledError("the reader went away");
  } while (offset < bytes.size());
  return absl::OkStatus();
}

}  // namespace stamina::rpc

#endif  // STAMINA_RPC_INTERNAL_CALLS_H_
