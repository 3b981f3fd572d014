// File: rpc/health_listener.h
//
// HealthListener: a plaintext gRPC listener that serves only the standard
// health service (grpc.health.v1.Health), for orchestrators' probes.
// Kubernetes' gRPC probes cannot speak TLS, and the API listeners may; a
// separate port that answers nothing but "SERVING" / "NOT_SERVING" keeps the
// API off plaintext while the kubelet can still ask. stamina-worker, which
// serves nothing else, gets a probe target this way too.
//
// It starts SERVING; SetServing(false) (draining) makes every later Check
// answer NOT_SERVING, so a readiness probe takes the pod out of its Service
// before the process stops. Thread-safe. The destructor stops the listener.
#ifndef STAMINA_RPC_HEALTH_LISTENER_H_
#define STAMINA_RPC_HEALTH_LISTENER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"

namespace stamina::rpc {

class HealthListener {
 public:
  struct Options {
    // host:port; port 0 picks a free one (see port()).
    std::string listen_address;
  };
  static absl::StatusOr<std::unique_ptr<HealthListener>> Create(const Options& options);
  ~HealthListener();

  int port() const { return port_; }
  void SetServing(bool serving);

 private:
  class Service;
  HealthListener() = default;

  int port_ = 0;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;  // destroyed before service_
};

}  // namespace stamina::rpc

#endif  // STAMINA_RPC_HEALTH_LISTENER_H_
