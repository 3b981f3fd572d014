#include "rpc/internal_channel.h"

#include "common/process.h"
#include "common/status_macros.h"
#include "grpcpp/create_channel.h"

namespace stamina::rpc {

absl::StatusOr<InternalChannel> DialInternal(const InternalClientOptions& options) {
  STAMINA_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                           ChannelCredentialsFor(options.tls));
  return InternalChannel{
      .channel = grpc::CreateChannel(options.address, credentials),
      .token = FlagOrEnvironment(options.token, "STAMINA_INTERNAL_TOKEN")};
}

}  // namespace stamina::rpc
