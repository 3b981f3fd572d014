#include "server/concept_service_impl.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rpc/grpc_status.h"
#include "rpc/resource_names.h"
#include "server/display_text.h"
#include "server/model_service_impl.h"
#include "server/proto_conversions.h"
#include "server/upload_session.h"

namespace stamina::server {
namespace {

// Templates cycle over a concept's images; more than this many add nothing
// and cost every job that reads the concept.
constexpr int kMaxCaptionTemplates = 32;

}  // namespace

grpc::Status ConceptServiceImpl::CreateConcept(
    grpc::ServerContext* call, const v1::CreateConceptRequest* request,
    v1::Concept* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::ModelName model,
                             rpc::ParseModelName(request->parent(), "parent"));
    const v1::Concept& spec = request->concept();
    if (spec.token().empty()) {
      return absl::InvalidArgumentError("concept.token: required, e.g. <anna>");
    }
    STAMINA_RETURN_IF_ERROR(CheckText(spec.display_name(),
                                      ctx_->limits.max_display_name_length,
                                      "concept.display_name"));
    if (spec.caption_templates_size() > kMaxCaptionTemplates) {
      return absl::InvalidArgumentError(absl::StrCat(
          "concept.caption_templates: ", spec.caption_templates_size(),
          " templates; the limit is ", kMaxCaptionTemplates));
    }
    for (int i = 0; i < spec.caption_templates_size(); ++i) {
      STAMINA_RETURN_IF_ERROR(CheckCaption(
          spec.caption_templates(i), absl::StrCat("concept.caption_templates[", i, "]")));
    }
    STAMINA_RETURN_IF_ERROR(CheckRequestId(request->request_id()));
    std::string concept_id = request->concept_id();
    if (concept_id.empty()) {
      if (request->request_id().empty()) {
        return absl::InvalidArgumentError("concept_id: required");
      }
      concept_id = IdForRequest(tenant, request->request_id(), "c");
    }
    // The concept quota and the request_id (a retry gets the first result
    // back) are checked in the create's transaction (storage).
    std::vector<std::string> templates(spec.caption_templates().begin(),
                                       spec.caption_templates().end());
    STAMINA_ASSIGN_OR_RETURN(
        storage::ConceptRecord created,
        ctx_->models->CreateConcept({.tenant_id = tenant,
                                     .model_id = model.model,
                                     .id = concept_id,
                                     .token = spec.token(),
                                     .display_name = spec.display_name(),
                                     .caption_templates = templates,
                                     .request_id = request->request_id(),
                                     .request_sha256 = RequestDigest(*request)}));
    *response = ToProto(created);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ConceptServiceImpl::GetConcept(grpc::ServerContext* call,
                                            const v1::GetConceptRequest* request,
                                            v1::Concept* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::ConceptName name,
                             rpc::ParseConceptName(request->name(), "name"));
    STAMINA_ASSIGN_OR_RETURN(
        storage::ConceptRecord c,
        ctx_->models->GetConcept(tenant, name.model, name.concept_id));
    *response = ToProto(c);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ConceptServiceImpl::ListConcepts(
    grpc::ServerContext* call, const v1::ListConceptsRequest* request,
    v1::ListConceptsResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::ModelName model,
                             rpc::ParseModelName(request->parent(), "parent"));
    STAMINA_ASSIGN_OR_RETURN(std::vector<storage::ConceptRecord> all,
                             ctx_->models->ListConcepts(tenant, model.model));
    std::string next;
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<storage::ConceptRecord> page,
        PageOf(std::move(all), *request, tenant, &next));
    for (const auto& c : page) *response->add_concepts() = ToProto(c);
    response->set_next_page_token(next);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ConceptServiceImpl::DeleteConcept(
    grpc::ServerContext* call, const v1::DeleteConceptRequest* request,
    v1::DeleteConceptResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::ConceptName name,
                             rpc::ParseConceptName(request->name(), "name"));
    STAMINA_ASSIGN_OR_RETURN(
        storage::DeletedConcept deleted,
        ctx_->models->DeleteConcept(tenant, name.model, name.concept_id,
                                    request->force()));
    DeleteUnreferencedBlobs(*ctx_, deleted.erased.unreferenced_blobs);
    *response->mutable_erased() = ToProto(deleted.erased);
    if (deleted.head_version.has_value()) {
      response->set_head_version(
          rpc::FormatVersionName(name.model, *deleted.head_version));
    }
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ConceptServiceImpl::UploadImages(
    grpc::ServerContext* call, grpc::ServerReader<v1::UploadImagesRequest>* reader,
    v1::UploadImagesResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(CallLimits::Slot slot,
                             ctx_->calls->Acquire(LongCall::kUpload, tenant));
    UploadSession session(ctx_, tenant);
    v1::UploadImagesRequest message;
    while (reader->Read(&message)) {
      STAMINA_RETURN_IF_ERROR(session.Accept(message));
    }
    STAMINA_ASSIGN_OR_RETURN(*response, session.Finish());
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ConceptServiceImpl::ListImages(grpc::ServerContext* call,
                                            const v1::ListImagesRequest* request,
                                            v1::ListImagesResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::ConceptName name,
                             rpc::ParseConceptName(request->parent(), "parent"));
    STAMINA_ASSIGN_OR_RETURN(
        storage::ConceptRecord owner,
        ctx_->models->GetConcept(tenant, name.model, name.concept_id));
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<storage::ImageRecord> all,
        ctx_->models->ListImages(tenant, name.model, name.concept_id));
    std::string next;
    STAMINA_ASSIGN_OR_RETURN(
        std::vector<storage::ImageRecord> page,
        PageOf(std::move(all), *request, tenant, &next));
    for (const auto& image : page) *response->add_images() = ToProto(image, owner);
    response->set_next_page_token(next);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ConceptServiceImpl::DeleteImage(grpc::ServerContext* call,
                                             const v1::DeleteImageRequest* request,
                                             v1::DeleteImageResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::ImageName name,
                             rpc::ParseImageName(request->name(), "name"));
    STAMINA_ASSIGN_OR_RETURN(
        storage::ErasureReport report,
        ctx_->models->RemoveImage(tenant, name.model, name.concept_id, name.image));
    DeleteUnreferencedBlobs(*ctx_, report.unreferenced_blobs);
    *response->mutable_erased() = ToProto(report);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

}  // namespace stamina::server
