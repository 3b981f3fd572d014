// File: server/malformed_requests.h
//
// A server interceptor that gives a request whose bytes are not a valid
// message of the method's request type (malformed protobuf, or a string
// field that is not valid UTF-8) INVALID_ARGUMENT with a message saying so.
// gRPC C++ answers such a request itself, before any handler runs, with
// INTERNAL and an empty message (GenericDeserialize in
// grpcpp/impl/codegen/proto_utils.h: InitializationErrorString() is empty
// for proto3), which reads as a server fault and tells the client nothing.
// The interceptor sees the failed parse (POST_RECV_MESSAGE with no message)
// and rewrites exactly that status; every other status passes unchanged.
// Thread-safe: one interceptor per call.
#ifndef STAMINA_SERVER_MALFORMED_REQUESTS_H_
#define STAMINA_SERVER_MALFORMED_REQUESTS_H_

#include <memory>

#include "grpcpp/support/server_interceptor.h"

namespace stamina::server {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewMalformedRequestInterceptorFactory();

}  // namespace stamina::server

#endif  // STAMINA_SERVER_MALFORMED_REQUESTS_H_
