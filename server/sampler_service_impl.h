// File: server/sampler_service_impl.h
//
// stamina.v1.SamplerService. GetCapabilities publishes the deployment's
// limits, methods and base models. Sample is answered by a sampler backend;
// until one is configured (the sampler issue) it returns UNIMPLEMENTED.
// Thread-safe.
#ifndef STAMINA_SERVER_SAMPLER_SERVICE_IMPL_H_
#define STAMINA_SERVER_SAMPLER_SERVICE_IMPL_H_

#include "server/service_context.h"
#include "server/training_settings.h"
#include "stamina/v1/sampler_service.grpc.pb.h"

namespace stamina::server {

class SamplerServiceImpl final : public v1::SamplerService::Service {
 public:
  SamplerServiceImpl(const ServiceContext* context, TrainingDefaults defaults)
      : ctx_(context), defaults_(defaults) {}

  grpc::Status GetCapabilities(grpc::ServerContext* call,
                               const v1::GetCapabilitiesRequest* request,
                               v1::Capabilities* response) override;

 private:
  const ServiceContext* const ctx_;
  const TrainingDefaults defaults_;
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_SAMPLER_SERVICE_IMPL_H_
