// File: server/sampler_service_impl.h
//
// stamina.v1.SamplerService. GetCapabilities publishes the deployment's
// limits, methods and base models. Sample validates the request, resolves
// the version to a ModelRecipe, checks the prompt's concept tokens and
// streams what the SampleRouter produces (progress, then one message per
// image); without a router it returns UNIMPLEMENTED. ExportModel streams a
// version's adapters (server/adapter_export.h) or has the router write its
// folded model as a diffusers folder.
// Thread-safe.
#ifndef STAMINA_SERVER_SAMPLER_SERVICE_IMPL_H_
#define STAMINA_SERVER_SAMPLER_SERVICE_IMPL_H_

#include "rpc/sample_router.h"
#include "server/sample_request.h"
#include "server/service_context.h"
#include "server/training_settings.h"
#include "stamina/v1/sampler_service.grpc.pb.h"

namespace stamina::server {

class SamplerServiceImpl final : public v1::SamplerService::Service {
 public:
  // `router` (not owned; may be null: Sample is UNIMPLEMENTED) outlives it.
  SamplerServiceImpl(const ServiceContext* context, TrainingDefaults defaults,
                     rpc::SampleRouter* router, SampleDefaults sample_defaults)
      : ctx_(context),
        defaults_(defaults),
        router_(router),
        sample_defaults_(sample_defaults) {}

  grpc::Status Sample(grpc::ServerContext* call, const v1::SampleRequest* request,
                      grpc::ServerWriter<v1::SampleResponse>* writer) override;

  grpc::Status ExportModel(grpc::ServerContext* call,
                           const v1::ExportModelRequest* request,
                           grpc::ServerWriter<v1::ExportModelResponse>* writer) override;

  grpc::Status GetCapabilities(grpc::ServerContext* call,
                               const v1::GetCapabilitiesRequest* request,
                               v1::Capabilities* response) override;

  // compare_versions_impl.cc.
  grpc::Status CompareVersions(grpc::ServerContext* call, const v1::CompareVersionsRequest* request,
                               v1::CompareVersionsResponse* response) override;

 private:
  const ServiceContext* const ctx_;
  const TrainingDefaults defaults_;
  rpc::SampleRouter* const router_;
  const SampleDefaults sample_defaults_;
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_SAMPLER_SERVICE_IMPL_H_
