#include "rpc/internal_channel.h"

#include "common/status_macros.h"
#include "grpcpp/create_channel.h"
#include "rpc/internal_auth.h"

namespace stamina::rpc {

absl::StatusOr<InternalChannel> DialInternal(const InternalClientOptions& options) {
  STAMINA_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                           ChannelCredentialsFor(options.tls));
  STAMINA_ASSIGN_OR_RETURN(
      std::string token, SecretFromFileOrEnvironment(options.token_file, "STAMINA_INTERNAL_TOKEN",
                                                     "--internal_token_file"));
  return InternalChannel{.channel = grpc::CreateChannel(options.address, credentials),
                         .token = std::move(token)};
}

}  // namespace stamina::rpc
