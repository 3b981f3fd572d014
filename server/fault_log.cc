#include "server/fault_log.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "grpcpp/support/interceptor.h"
#include "grpcpp/support/status.h"

namespace stamina::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

bool IsServerFault(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DATA_LOSS:
      return true;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return absl::StrContains(status.error_message(), "out of memory");
    default:
      return false;
  }
}

class FaultLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  FaultLogInterceptor(const std::function<void(const std::string&)>* log, std::string method)
      : log_(log), method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      if (IsServerFault(status)) {
        (*log_)(absl::StrCat("fault: ", method_, " ended ",
                             StatusCodeName(static_cast<absl::StatusCode>(status.error_code())),
                             ": ", status.error_message()));
      }
    }
    methods->Proceed();
  }

 private:
  const std::function<void(const std::string&)>* const log_;
  const std::string method_;
};

class FaultLogInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit FaultLogInterceptorFactory(std::function<void(const std::string&)> log)
      : log_(std::move(log)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new FaultLogInterceptor(&log_, info->method());
  }

 private:
  const std::function<void(const std::string&)> log_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewFaultLogInterceptorFactory(std::function<void(const std::string&)> log) {
  return std::make_unique<FaultLogInterceptorFactory>(std::move(log));
}

}  // namespace stamina::server
