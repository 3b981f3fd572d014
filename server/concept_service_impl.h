// File: server/concept_service_impl.h
//
// stamina.v1.ConceptService over the registry and the blob store. Uploads
// stream through an upload session (upload_session.h) that verifies every
// image before anything is stored. Thread-safe.
#ifndef STAMINA_SERVER_CONCEPT_SERVICE_IMPL_H_
#define STAMINA_SERVER_CONCEPT_SERVICE_IMPL_H_

#include "server/service_context.h"
#include "stamina/v1/concept_service.grpc.pb.h"

namespace stamina::server {

class ConceptServiceImpl final : public v1::ConceptService::Service {
 public:
  explicit ConceptServiceImpl(const ServiceContext* context) : ctx_(context) {}

  grpc::Status CreateConcept(grpc::ServerContext* call,
                             const v1::CreateConceptRequest* request,
                             v1::Concept* response) override;
  grpc::Status GetConcept(grpc::ServerContext* call,
                          const v1::GetConceptRequest* request,
                          v1::Concept* response) override;
  grpc::Status ListConcepts(grpc::ServerContext* call,
                            const v1::ListConceptsRequest* request,
                            v1::ListConceptsResponse* response) override;
  grpc::Status DeleteConcept(grpc::ServerContext* call,
                             const v1::DeleteConceptRequest* request,
                             v1::DeleteConceptResponse* response) override;
  grpc::Status UploadImages(grpc::ServerContext* call,
                            grpc::ServerReader<v1::UploadImagesRequest>* reader,
                            v1::UploadImagesResponse* response) override;
  grpc::Status ListImages(grpc::ServerContext* call,
                          const v1::ListImagesRequest* request,
                          v1::ListImagesResponse* response) override;
  grpc::Status DeleteImage(grpc::ServerContext* call,
                           const v1::DeleteImageRequest* request,
                           v1::DeleteImageResponse* response) override;
  // Erasures: concept_erasure_impl.cc.
  grpc::Status EraseConcept(grpc::ServerContext* call, const v1::EraseConceptRequest* request,
                            v1::EraseConceptResponse* response) override;
  grpc::Status GetErasure(grpc::ServerContext* call, const v1::GetErasureRequest* request,
                          v1::Erasure* response) override;
  grpc::Status ListErasures(grpc::ServerContext* call, const v1::ListErasuresRequest* request,
                            v1::ListErasuresResponse* response) override;

 private:
  const ServiceContext* const ctx_;
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_CONCEPT_SERVICE_IMPL_H_
