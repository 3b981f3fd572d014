// File: rpc/grpc_status.h
//
// The one place grpc::Status is made from absl::Status (TF Serving's
// grpc_status_util): same code, same message. Everything below the gRPC
// handlers speaks absl::Status only.
// Thread-safe: pure functions.
#ifndef STAMINA_RPC_GRPC_STATUS_H_
#define STAMINA_RPC_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace stamina::rpc {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace stamina::rpc

#endif  // STAMINA_RPC_GRPC_STATUS_H_
