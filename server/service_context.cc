#include "server/service_context.h"

#include <optional>

namespace stamina::server {

absl::StatusOr<std::string> TenantOf(const ServiceContext& context,
                                     const grpc::ServerContext* call) {
  const auto& metadata = call->client_metadata();
  auto it = metadata.find("authorization");
  std::optional<absl::string_view> header;
  if (it != metadata.end()) {
    header = absl::string_view(it->second.data(), it->second.size());
  }
  return context.auth->Authenticate(header);
}

void DeleteUnreferencedBlobs(const ServiceContext& context,
                             const std::vector<std::string>& digests) {
  context.blob_collector->DeleteIfUnreferenced(digests);
}

}  // namespace stamina::server
