// File: server/fault_log.h
//
// A server interceptor that logs every call ending in a status that means
// the server failed rather than the client: INTERNAL, UNKNOWN, DATA_LOSS,
// and RESOURCE_EXHAUSTED for an allocation failure ("out of memory", as
// core's RunTorch reports one). One line per call, with the method, the
// code and the message the client got (messages never carry secrets). Other
// statuses are the client's business and stay out of the log.
// Thread-safe: one interceptor per call; `log` must be thread-safe.
#ifndef STAMINA_SERVER_FAULT_LOG_H_
#define STAMINA_SERVER_FAULT_LOG_H_

#include <functional>
#include <memory>
#include <string>

#include "grpcpp/support/server_interceptor.h"

namespace stamina::server {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewFaultLogInterceptorFactory(std::function<void(const std::string&)> log);

}  // namespace stamina::server

#endif  // STAMINA_SERVER_FAULT_LOG_H_
