#include "cli/session.h"

#include <chrono>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace stamina::cli {

Session::Session(std::shared_ptr<grpc::ChannelInterface> channel,
                 CliOptions options, std::ostream& out, std::ostream& err)
    : options_(std::move(options)),
      out_(out),
      err_(err),
      models_(v1::ModelService::NewStub(channel)),
      concepts_(v1::ConceptService::NewStub(channel)),
      training_(v1::TrainingService::NewStub(channel)),
      sampler_(v1::SamplerService::NewStub(channel)),
      admin_(internal::v1::AdminService::NewStub(channel)) {}

std::unique_ptr<grpc::ClientContext> Session::NewContext(bool deadline) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + options_.api_key);
  if (deadline) {
    context->set_deadline(
        absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
  }
  return context;
}

std::unique_ptr<grpc::ClientContext> Session::NewAdminContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + options_.admin_token);
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
  return context;
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

std::string ModelName(absl::string_view model) {
  if (absl::StartsWith(model, "models/")) return std::string(model);
  return absl::StrCat("models/", model);
}

std::string ChildName(absl::string_view model, absl::string_view collection,
                      absl::string_view id) {
  if (absl::StartsWith(id, "models/")) return std::string(id);
  return absl::StrCat(ModelName(model), "/", collection, "/", id);
}

}  // namespace stamina::cli
