// File: server/model_service_impl.h
//
// stamina.v1.ModelService over the registry: each handler authenticates,
// validates (errors name the field), calls a store and converts; the
// grpc::Status is made only by ToGrpcStatus. Thread-safe.
#ifndef STAMINA_SERVER_MODEL_SERVICE_IMPL_H_
#define STAMINA_SERVER_MODEL_SERVICE_IMPL_H_

#include "server/service_context.h"
#include "stamina/v1/model_service.grpc.pb.h"

namespace stamina::server {

class ModelServiceImpl final : public v1::ModelService::Service {
 public:
  explicit ModelServiceImpl(const ServiceContext* context) : ctx_(context) {}

  grpc::Status CreateModel(grpc::ServerContext* call,
                           const v1::CreateModelRequest* request,
                           v1::Model* response) override;
  grpc::Status GetModel(grpc::ServerContext* call,
                        const v1::GetModelRequest* request,
                        v1::Model* response) override;
  grpc::Status ListModels(grpc::ServerContext* call,
                          const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;
  grpc::Status DeleteModel(grpc::ServerContext* call,
                           const v1::DeleteModelRequest* request,
                           v1::DeleteModelResponse* response) override;
  grpc::Status ListVersions(grpc::ServerContext* call,
                            const v1::ListVersionsRequest* request,
                            v1::ListVersionsResponse* response) override;
  grpc::Status GetVersion(grpc::ServerContext* call,
                          const v1::GetVersionRequest* request,
                          v1::ModelVersion* response) override;
  grpc::Status GetLineage(grpc::ServerContext* call,
                          const v1::GetLineageRequest* request,
                          v1::Lineage* response) override;
  grpc::Status ForkModel(grpc::ServerContext* call, const v1::ForkModelRequest* request,
                         v1::Model* response) override;
  grpc::Status RollbackModel(grpc::ServerContext* call,
                             const v1::RollbackModelRequest* request,
                             v1::Model* response) override;

 private:
  const ServiceContext* const ctx_;
};

// The id a create method uses when the client gave only a request_id: the
// same (tenant, request_id) always maps to the same id, so a retried create
// finds its first result instead of making a second resource.
std::string IdForRequest(absl::string_view tenant, absl::string_view request_id,
                         absl::string_view prefix);

}  // namespace stamina::server

#endif  // STAMINA_SERVER_MODEL_SERVICE_IMPL_H_
