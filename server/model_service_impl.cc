#include "server/model_service_impl.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rpc/grpc_status.h"
#include "rpc/resource_names.h"
#include "server/display_text.h"
#include "server/page_tokens.h"
#include "server/proto_conversions.h"
#include "storage/sha256.h"
#include "webhooks/url_policy.h"

namespace stamina::server {

std::string IdForRequest(absl::string_view tenant, absl::string_view request_id,
                         absl::string_view prefix) {
  return absl::StrCat(
      prefix,
      storage::Sha256Hex(absl::StrCat(tenant, "\n", request_id)).substr(0, 24));
}

namespace {

// Checks the new model's display name, webhook URL and request_id (a
// CreateModelRequest's or ForkModelRequest's) and returns its id: the
// request's, else one derived from request_id (a retry gets the same), else
// a fresh one.
template <typename Request>
absl::StatusOr<std::string> NewModelId(const ServiceContext& ctx, const std::string& tenant,
                                       const Request& request) {
  STAMINA_RETURN_IF_ERROR(CheckText(request.model().display_name(),
                                    ctx.limits.max_display_name_length, "model.display_name"));
  if (!request.model().webhook_url().empty()) {
    STAMINA_RETURN_IF_ERROR(webhooks::CheckWebhookUrl(
        request.model().webhook_url(), "model.webhook_url", ctx.webhook_allow_private_targets));
  }
  STAMINA_RETURN_IF_ERROR(CheckRequestId(request.request_id()));
  if (!request.model_id().empty()) return request.model_id();
  return request.request_id().empty() ? "m" + ctx.ids->NewId()
                                      : IdForRequest(tenant, request.request_id(), "m");
}

}  // namespace

grpc::Status ModelServiceImpl::CreateModel(grpc::ServerContext* call,
                                           const v1::CreateModelRequest* request,
                                           v1::Model* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    if (request->model().base_model().empty()) {
      return absl::InvalidArgumentError("model.base_model: required");
    }
    STAMINA_ASSIGN_OR_RETURN(
        std::string base,
        rpc::ParseBaseModelName(request->model().base_model(), "model.base_model"));
    STAMINA_ASSIGN_OR_RETURN(std::string id, NewModelId(*ctx_, tenant, *request));
    // A retry (same request_id, same content) gets the first result back; the
    // registry checks the key in the create's transaction.
    auto created = ctx_->models->CreateModel({.tenant_id = tenant,
                                              .id = id,
                                              .display_name = request->model().display_name(),
                                              .base_model_id = base,
                                              .webhook_url = request->model().webhook_url(),
                                              .request_id = request->request_id(),
                                              .request_sha256 = RequestDigest(*request)});
    STAMINA_RETURN_IF_ERROR(created.status());
    *response = ToProto(*created);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ModelServiceImpl::GetModel(grpc::ServerContext* call,
                                        const v1::GetModelRequest* request,
                                        v1::Model* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::ModelName name,
                             rpc::ParseModelName(request->name(), "name"));
    STAMINA_ASSIGN_OR_RETURN(storage::ModelRecord model,
                             ctx_->models->GetModel(tenant, name.model));
    *response = ToProto(model);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ModelServiceImpl::ListModels(grpc::ServerContext* call,
                                          const v1::ListModelsRequest* request,
                                          v1::ListModelsResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(std::string cursor, PageCursorOf(*request, tenant));
    auto page = ctx_->models->ListModels(tenant, request->page_size(), cursor);
    STAMINA_RETURN_IF_ERROR(page.status());
    for (const auto& model : page->models) *response->add_models() = ToProto(model);
    response->set_next_page_token(NextPageToken(*request, tenant, page->next_page_token));
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ModelServiceImpl::DeleteModel(grpc::ServerContext* call,
                                           const v1::DeleteModelRequest* request,
                                           v1::DeleteModelResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::ModelName name,
                             rpc::ParseModelName(request->name(), "name"));
    STAMINA_ASSIGN_OR_RETURN(storage::ErasureReport report,
                             ctx_->models->DeleteModel(tenant, name.model));
    DeleteUnreferencedBlobs(*ctx_, report.unreferenced_blobs);
    *response->mutable_erased() = ToProto(report);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ModelServiceImpl::ListVersions(
    grpc::ServerContext* call, const v1::ListVersionsRequest* request,
    v1::ListVersionsResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::ModelName name,
                             rpc::ParseModelName(request->parent(), "parent"));
    STAMINA_ASSIGN_OR_RETURN(std::string cursor, PageCursorOf(*request, tenant));
    STAMINA_ASSIGN_OR_RETURN(
        storage::VersionPage page,
        ctx_->lineage->ListVersions(tenant, name.model, request->page_size(), cursor));
    for (const auto& v : page.versions) *response->add_versions() = ToProto(v);
    response->set_next_page_token(NextPageToken(*request, tenant, page.next_page_token));
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ModelServiceImpl::GetVersion(grpc::ServerContext* call,
                                          const v1::GetVersionRequest* request,
                                          v1::ModelVersion* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::VersionName name,
                             rpc::ParseVersionName(request->name(), "name"));
    absl::StatusOr<storage::VersionRecord> version =
        ctx_->lineage->GetVersion(tenant, name.model, name.version);
    if (!version.ok()) {
      return ExplainErasedVersion(*ctx_, tenant, name.model, name.version, version.status());
    }
    *response = ToProto(*version);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ModelServiceImpl::GetLineage(grpc::ServerContext* call,
                                          const v1::GetLineageRequest* request,
                                          v1::Lineage* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    std::string model_id;
    std::optional<int64_t> version;
    if (auto model = rpc::ParseModelName(request->name(), "name"); model.ok()) {
      model_id = model->model;
    } else {
      STAMINA_ASSIGN_OR_RETURN(rpc::VersionName v,
                               rpc::ParseVersionName(request->name(), "name"));
      model_id = v.model;
      version = v.version;
    }
    STAMINA_ASSIGN_OR_RETURN(storage::ModelRecord model,
                             ctx_->models->GetModel(tenant, model_id));
    absl::StatusOr<std::vector<storage::LineageStep>> steps =
        ctx_->lineage->Lineage(tenant, model_id, version);
    if (!steps.ok() && version.has_value()) {
      return ExplainErasedVersion(*ctx_, tenant, model_id, *version, steps.status());
    }
    STAMINA_RETURN_IF_ERROR(steps.status());
    *response = ToProto(model, *steps);
    if (ctx_->erasures != nullptr) {
      STAMINA_ASSIGN_OR_RETURN(std::vector<storage::ErasureRecord> erasures,
                               ctx_->erasures->ListErasures(tenant, model_id));
      for (const auto& erasure : erasures) *response->add_erasures() = ToProto(erasure);
    }
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ModelServiceImpl::RollbackModel(
    grpc::ServerContext* call, const v1::RollbackModelRequest* request,
    v1::Model* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::ModelName name,
                             rpc::ParseModelName(request->name(), "name"));
    STAMINA_ASSIGN_OR_RETURN(rpc::VersionName version,
                             rpc::ParseVersionName(request->version(), "version"));
    if (version.model != name.model) {
      return absl::InvalidArgumentError(absl::StrCat(
          "version: ", request->version(), " is not a version of ",
          request->name()));
    }
    STAMINA_ASSIGN_OR_RETURN(
        storage::ModelRecord model,
        ctx_->lineage->Rollback(tenant, name.model, version.version));
    *response = ToProto(model);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ModelServiceImpl::ForkModel(grpc::ServerContext* call,
                                         const v1::ForkModelRequest* request, v1::Model* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    if (request->source_version().empty()) {
      return absl::InvalidArgumentError("source_version: required");
    }
    STAMINA_ASSIGN_OR_RETURN(rpc::VersionName source,
                             rpc::ParseVersionName(request->source_version(), "source_version"));
    if (!request->model().base_model().empty()) {
      return absl::InvalidArgumentError(
          "model.base_model: a fork keeps its source's base model; leave it empty");
    }
    STAMINA_ASSIGN_OR_RETURN(std::string id, NewModelId(*ctx_, tenant, *request));
    STAMINA_ASSIGN_OR_RETURN(
        storage::ModelRecord forked,
        ctx_->models->ForkModel({.tenant_id = tenant,
                                 .source_model_id = source.model,
                                 .source_version = source.version,
                                 .model = {.tenant_id = tenant,
                                           .id = id,
                                           .display_name = request->model().display_name(),
                                           .webhook_url = request->model().webhook_url(),
                                           .request_id = request->request_id(),
                                           .request_sha256 = RequestDigest(*request)}}));
    *response = ToProto(forked);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

}  // namespace stamina::server
