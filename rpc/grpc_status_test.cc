#include "rpc/grpc_status.h"

#include "gtest/gtest.h"

namespace stamina::rpc {
namespace {

TEST(GrpcStatusTest, KeepsCodeAndMessageBothWays) {
  for (absl::Status status :
       {absl::InvalidArgumentError("settings.steps: must be > 0"),
        absl::NotFoundError("models/x not found"),
        absl::FailedPreconditionError("not DRAFT"),
        absl::ResourceExhaustedError("queue full"), absl::AbortedError("lease"),
        absl::UnavailableError("draining"), absl::DataLossError("corrupt"),
        absl::UnauthenticatedError("no key"), absl::CancelledError("stop")}) {
    grpc::Status converted = ToGrpcStatus(status);
    EXPECT_EQ(static_cast<int>(converted.error_code()),
              static_cast<int>(status.code()));
    EXPECT_EQ(converted.error_message(), status.message());
    EXPECT_EQ(FromGrpcStatus(converted), status);
  }
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

}  // namespace
}  // namespace stamina::rpc
