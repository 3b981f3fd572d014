#include "server/service_context.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "rpc/resource_names.h"

namespace stamina::server {

namespace {

std::optional<absl::string_view> AuthorizationHeader(const grpc::ServerContext* call) {
  const auto& metadata = call->client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return std::nullopt;
  return absl::string_view(it->second.data(), it->second.size());
}

}  // namespace

absl::StatusOr<std::string> TenantOf(const ServiceContext& context,
                                     const grpc::ServerContext* call) {
  return context.auth->Authenticate(AuthorizationHeader(call));
}

absl::StatusOr<Authenticator::Caller> CallerOf(const ServiceContext& context,
                                               const grpc::ServerContext* call) {
  return context.auth->AuthenticateCaller(AuthorizationHeader(call));
}

absl::Status ExplainErasedVersion(const ServiceContext& context, const std::string& tenant,
                                  const std::string& model_id, int64_t version,
                                  absl::Status status) {
  if (!absl::IsNotFound(status) || context.erasures == nullptr) return status;
  absl::StatusOr<std::optional<storage::ErasureRecord>> erasure =
      context.erasures->ErasureOfVersion(tenant, model_id, version);
  if (!erasure.ok() || !erasure->has_value()) return status;
  const storage::ErasureRecord& e = **erasure;
  return absl::NotFoundError(
      absl::StrCat(rpc::FormatVersionName(model_id, version), " was erased by ",
                   rpc::FormatErasureName(model_id, e.id), " (", e.token, " removed ",
                   absl::FormatTime(absl::RFC3339_sec, e.create_time, absl::UTCTimeZone()),
                   "); its weights no longer exist"));
}

void DeleteUnreferencedBlobs(const ServiceContext& context,
                             const std::vector<std::string>& digests) {
  context.blob_collector->DeleteIfUnreferenced(digests);
  if (context.sampler != nullptr) context.sampler->Forget(digests);
}

}  // namespace stamina::server
