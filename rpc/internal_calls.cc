#include "rpc/internal_calls.h"

#include "absl/strings/str_cat.h"

namespace stamina::rpc {

absl::Status CheckInternalToken(const grpc::ServerContext& call, absl::string_view token,
                                absl::string_view service) {
  const auto& metadata = call.client_metadata();
  const auto it = metadata.find("authorization");
  if (token.empty() || it == metadata.end() ||
      absl::string_view(it->second.data(), it->second.size()) !=
          absl::StrCat("Bearer ", token)) {
    return absl::UnauthenticatedError(
        absl::StrCat(service, " needs the internal token"));
  }
  return absl::OkStatus();
}

}  // namespace stamina::rpc
