// ConceptServiceImpl, continued: EraseConcept, GetErasure, ListErasures
// (thin handlers over storage::ErasureStore; docs/api.md, "Erasing a concept").
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rpc/grpc_status.h"
#include "rpc/resource_names.h"
#include "server/concept_service_impl.h"
#include "server/display_text.h"
#include "server/erasure_prover.h"
#include "server/proto_conversions.h"
#include "server/training_settings.h"

namespace stamina::server {

grpc::Status ConceptServiceImpl::EraseConcept(grpc::ServerContext* call,
                                              const v1::EraseConceptRequest* request,
                                              v1::EraseConceptResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(Authenticator::Caller caller, CallerOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::ConceptName name, rpc::ParseConceptName(request->name(), "name"));
    STAMINA_RETURN_IF_ERROR(CheckRequestId(request->request_id()));
    STAMINA_ASSIGN_OR_RETURN(storage::TenantRecord tenant,
                             ctx_->tenants->GetTenant(caller.tenant_id));
    STAMINA_ASSIGN_OR_RETURN(storage::ErasureMode mode,
                             ErasureModeFor(request->mode(), tenant.erasure_policy));
    // The proof's "before": how far the head draws the concept's prompt from
    // the base model now. Best effort: an erasure never waits on a sampler
    // that fails.
    std::string proof_prompt;
    std::optional<double> drift_before;
    if (ctx_->erasure_prover != nullptr) {
      STAMINA_ASSIGN_OR_RETURN(
          storage::ConceptRecord erased,
          ctx_->models->GetConcept(caller.tenant_id, name.model, name.concept_id));
      proof_prompt = ErasureProver::PromptFor(erased.token);
      absl::StatusOr<double> drift =
          ctx_->erasure_prover->Drift(caller.tenant_id, name.model, std::nullopt, proof_prompt,
                                      [call] { return call->IsCancelled(); });
      if (drift.ok()) drift_before = *drift;
    }
    STAMINA_ASSIGN_OR_RETURN(
        storage::ErasureResult result,
        ctx_->erasures->EraseConcept({.tenant_id = caller.tenant_id,
                                      .model_id = name.model,
                                      .concept_id = name.concept_id,
                                      .mode = mode,
                                      .requested_by = absl::StrCat("apiKeys/", caller.key_id),
                                      .request_id = request->request_id(),
                                      .request_sha256 = RequestDigest(*request),
                                      .proof_prompt = proof_prompt,
                                      .drift_before = drift_before}));
    // The bytes go before the call returns (unless a concurrent upload of
    // the same bytes holds them: then they are that upload's).
    DeleteUnreferencedBlobs(*ctx_, result.erased.unreferenced_blobs);
    // Replay jobs are queued and a running job may have been handed back.
    if (ctx_->job_changes != nullptr) ctx_->job_changes->Notify();
    *response->mutable_erasure() = ToProto(result.erasure);
    *response->mutable_erased() = ToProto(result.erased);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ConceptServiceImpl::GetErasure(grpc::ServerContext* call,
                                            const v1::GetErasureRequest* request,
                                            v1::Erasure* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::ErasureName name, rpc::ParseErasureName(request->name(), "name"));
    STAMINA_ASSIGN_OR_RETURN(storage::ErasureRecord erasure,
                             ctx_->erasures->GetErasure(tenant, name.model, name.erasure));
    *response = ToProto(erasure);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

grpc::Status ConceptServiceImpl::ListErasures(grpc::ServerContext* call,
                                              const v1::ListErasuresRequest* request,
                                              v1::ListErasuresResponse* response) {
  auto run = [&]() -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::string tenant, TenantOf(*ctx_, call));
    STAMINA_ASSIGN_OR_RETURN(rpc::ModelName name, rpc::ParseModelName(request->parent(), "parent"));
    STAMINA_ASSIGN_OR_RETURN(std::vector<storage::ErasureRecord> all,
                             ctx_->erasures->ListErasures(tenant, name.model));
    std::string next;
    STAMINA_ASSIGN_OR_RETURN(std::vector<storage::ErasureRecord> page,
                             PageOf(std::move(all), *request, tenant, &next));
    for (const auto& erasure : page) *response->add_erasures() = ToProto(erasure);
    response->set_next_page_token(next);
    return absl::OkStatus();
  };
  return rpc::ToGrpcStatus(run());
}

}  // namespace stamina::server
