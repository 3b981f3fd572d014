// File: rpc/health_listener.cc
#include "rpc/health_listener.h"

#include <chrono>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpc/grpc.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace stamina::rpc {

namespace health = ::grpc::health::v1;

// grpc.health.v1.Health for the whole server (service ""), synchronous: a
// server with no synchronous service has no thread to run gRPC's default
// health service on.
class HealthListener::Service final : public health::Health::Service {
 public:
  void SetServing(bool serving) {
    absl::MutexLock lock(&mu_);
    serving_ = serving;
    ++generation_;
  }

  grpc::Status Check(grpc::ServerContext* /*call*/, const health::HealthCheckRequest* request,
                     health::HealthCheckResponse* response) override {
    if (!request->service().empty()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "only the server's health (service \"\")");
    }
    response->set_status(Status());
    return grpc::Status::OK;
  }

  // Sends the status now and after each change, until the caller leaves or
  // the listener stops.
  grpc::Status Watch(grpc::ServerContext* call, const health::HealthCheckRequest* request,
                     grpc::ServerWriter<health::HealthCheckResponse>* writer) override {
    health::HealthCheckResponse response;
    if (!request->service().empty()) {
      response.set_status(health::HealthCheckResponse::SERVICE_UNKNOWN);
      writer->Write(response);
      return grpc::Status::OK;
    }
    struct Seen {
      const uint64_t* generation;
      const bool* stopping;
      uint64_t value;
    };
    absl::MutexLock lock(&mu_);
    Seen seen{&generation_, &stopping_, generation_};
    while (!call->IsCancelled() && !stopping_) {
      response.set_status(serving_ ? health::HealthCheckResponse::SERVING
                                   : health::HealthCheckResponse::NOT_SERVING);
      seen.value = generation_;
      mu_.Unlock();
      const bool written = writer->Write(response);
      mu_.Lock();
      if (!written) break;
      // A cancelled call signals nothing here: look again every second.
      while (generation_ == seen.value && !stopping_ && !call->IsCancelled()) {
        mu_.AwaitWithTimeout(
            absl::Condition(
                +[](Seen* s) { return *s->generation != s->value || *s->stopping; }, &seen),
            absl::Seconds(1));
      }
    }
    return grpc::Status::OK;
  }

  void Stop() {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }

 private:
  health::HealthCheckResponse::ServingStatus Status() {
    absl::MutexLock lock(&mu_);
    return serving_ ? health::HealthCheckResponse::SERVING
                    : health::HealthCheckResponse::NOT_SERVING;
  }

  absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = true;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

absl::StatusOr<std::unique_ptr<HealthListener>> HealthListener::Create(const Options& options) {
  if (options.listen_address.empty()) {
    return absl::InvalidArgumentError("health listen address: empty");
  }
  std::unique_ptr<HealthListener> listener(new HealthListener());
  listener->service_ = std::make_unique<Service>();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address, grpc::InsecureServerCredentials(),
                           &listener->port_);
  // Probes send a few bytes: nothing larger is ever accepted here.
  builder.SetMaxReceiveMessageSize(4096);
  // A second process on the same port must fail, not share it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(listener->service_.get());
  // gRPC's default health service is a process-wide switch the API
  // listeners turn on; left on, gRPC would try to register it here beside
  // this one and log a duplicate registration.
  const bool default_health = grpc::DefaultHealthCheckServiceEnabled();
  grpc::EnableDefaultHealthCheckService(false);
  listener->server_ = builder.BuildAndStart();
  grpc::EnableDefaultHealthCheckService(default_health);
  if (listener->server_ == nullptr || listener->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address, " (health listener)"));
  }
  return listener;
}

void HealthListener::SetServing(bool serving) { service_->SetServing(serving); }

HealthListener::~HealthListener() {
  if (service_ != nullptr) {
    service_->SetServing(false);
    service_->Stop();
  }
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
  }
}

}  // namespace stamina::rpc
