#include "rpc/internal_calls.h"

#include "absl/strings/str_cat.h"
#include "rpc/internal_auth.h"

namespace stamina::rpc {

absl::Status CheckInternalToken(const grpc::ServerContext& call, absl::string_view token,
                                absl::string_view service) {
  const auto& metadata = call.client_metadata();
  const auto it = metadata.find("authorization");
  absl::string_view presented;
  if (it != metadata.end()) {
    presented = absl::string_view(it->second.data(), it->second.size());
  }
  const std::optional<absl::string_view> credential = BearerCredential(presented);
  if (token.empty() || !credential.has_value() || !SecretsEqual(*credential, token)) {
    return absl::UnauthenticatedError(
        absl::StrCat(service, " needs the internal token"));
  }
  return absl::OkStatus();
}

}  // namespace stamina::rpc
