#include "server/remote_sample_router.h"

#include <algorithm>
#include <functional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "grpcpp/client_context.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/create_channel.h"
#include "rpc/grpc_status.h"
#include "rpc/sample_messages.h"
#include "server/replica_ranking.h"

namespace stamina::server {
namespace {

std::string RoutingKey(const rpc::ModelRecipe& recipe) {
  return absl::StrCat(recipe.tenant_id, "/", recipe.model_id);
}

// Waits on a completion queue with one operation pending at a time; every
// `interval` without an event it asks `cancelled` and, once that says so,
// cancels the call (its pending operation then ends at once).
class CancellablePoll {
 public:
  CancellablePoll(grpc::CompletionQueue* queue, grpc::ClientContext* context,
                  std::function<bool()> cancelled, absl::Duration interval)
      : queue_(queue), context_(context), cancelled_(std::move(cancelled)),
        interval_(interval) {}
  ~CancellablePoll() {
    queue_->Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (queue_->Next(&tag, &ok)) {
    }
  }

  void* tag() { return this; }
  bool cancelled() const { return cancelled_sent_; }

  // The pending operation's `ok`.
  bool Wait() {
    void* tag = nullptr;
    bool ok = false;
    while (true) {
      switch (queue_->AsyncNext(&tag, &ok, absl::ToChronoTime(absl::Now() + interval_))) {
        case grpc::CompletionQueue::GOT_EVENT:
          return ok;
        case grpc::CompletionQueue::SHUTDOWN:
          return false;
        case grpc::CompletionQueue::TIMEOUT:
          if (!cancelled_sent_ && cancelled_()) {
            context_->TryCancel();
            cancelled_sent_ = true;
          }
          break;
      }
    }
  }

 private:
  grpc::CompletionQueue* const queue_;
  grpc::ClientContext* const context_;
  const std::function<bool()> cancelled_;
  const absl::Duration interval_;
  bool cancelled_sent_ = false;
};

}  // namespace

absl::StatusOr<std::vector<RemoteSampleRouter::Replica>> RemoteSampleRouter::ReplicasAt(
    const std::vector<std::string>& addresses,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const rpc::InternalTokens& tokens) {
  std::vector<Replica> replicas;
  for (const std::string& address : addresses) {
    auto token = tokens.TokenOf(rpc::InternalRole::kSampler, address);
    if (!token.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sampler replica ", address, ": the internal tokens file needs a line `sampler ",
          address, " <token>`"));
    }
    replicas.push_back(
        {.name = address,
         .channel = grpc::CreateChannel(address, credentials),
         .token = *token});
  }
  return replicas;
}

absl::StatusOr<std::unique_ptr<RemoteSampleRouter>> RemoteSampleRouter::Create(
    Options options) {
  if (options.replicas.empty()) {
    return absl::InvalidArgumentError("replicas: at least one");
  }
  std::set<std::string> seen;
  std::vector<Stub> stubs;
  for (const Replica& replica : options.replicas) {
    if (replica.name.empty() || replica.channel == nullptr || replica.token.empty()) {
      return absl::InvalidArgumentError("replicas: each needs a name, a channel and a token");
    }
    if (!seen.insert(replica.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("replicas: \"", replica.name, "\" is listed twice"));
    }
    stubs.push_back({.name = replica.name,
                     .token = replica.token,
                     .stub = internal::v1::SamplerBackend::NewStub(replica.channel)});
  }
  return std::unique_ptr<RemoteSampleRouter>(
      new RemoteSampleRouter(std::move(options), std::move(stubs)));
}

RemoteSampleRouter::RemoteSampleRouter(Options options, std::vector<Stub> stubs)
    : options_(std::move(options)), stubs_(std::move(stubs)) {
  for (const Stub& stub : stubs_) names_.push_back(stub.name);
}

std::vector<std::string> RemoteSampleRouter::ReplicasFor(
    const rpc::ModelRecipe& recipe) const {
  std::vector<std::string> order;
  for (int index : RankReplicas(RoutingKey(recipe), names_)) {
    order.push_back(names_[index]);
  }
  return order;
}

absl::Status RemoteSampleRouter::Sample(const rpc::ModelRecipe& recipe,
                                        const rpc::SampleParams& params,
                                        rpc::SampleSink& sink) {
  const internal::v1::SampleRequest request = rpc::BackendRequest(recipe, params);
  absl::Status status;
  for (int index : RankReplicas(RoutingKey(recipe), names_)) {
    if (sink.Cancelled()) return absl::CancelledError("the caller went away");
    bool relayed_image = false;
    status = SampleOn(stubs_[index], recipe, request, sink, &relayed_image);
    if (!absl::IsUnavailable(status) || relayed_image) return status;
  }
  return absl::UnavailableError(absl::StrCat("no sampler replica could serve ",
                                             RoutingKey(recipe), "; last: ",
                                             status.message()));
}

absl::Status RemoteSampleRouter::Warm(const rpc::ModelRecipe& recipe,
                                      const std::function<bool()>& cancelled) {
  internal::v1::WarmRequest request;
  *request.mutable_recipe() = rpc::RecipeToProto(recipe);
  request.set_tenant(recipe.tenant_id);
  absl::Status status;
  for (int index : RankReplicas(RoutingKey(recipe), names_)) {
    grpc::CompletionQueue queue;
    grpc::ClientContext context;
    PrepareCall(stubs_[index], recipe, context);
    CancellablePoll poll(&queue, &context, cancelled ? cancelled : [] { return false; },
                         options_.cancel_poll_interval);
    std::unique_ptr<grpc::ClientAsyncResponseReader<internal::v1::WarmResponse>> call =
        stubs_[index].stub->PrepareAsyncWarm(&context, request, &queue);
    call->StartCall();
    internal::v1::WarmResponse response;
    grpc::Status result;
    call->Finish(&response, &result, poll.tag());
    poll.Wait();
    if (poll.cancelled()) return absl::CancelledError("warming up was abandoned");
    status = rpc::FromGrpcStatus(result);
    if (!absl::IsUnavailable(status)) return status;
    status = absl::UnavailableError(
        absl::StrCat("sampler replica ", stubs_[index].name, ": ", status.message()));
  }
  return status;
}

std::optional<rpc::BaseModelSampling> RemoteSampleRouter::SamplingOf(
    const std::string& base_model_id) const {
  absl::MutexLock lock(&sizes_mu_);
  LearnBaseModelsOnce();
  const auto found = sizes_.find(base_model_id);
  if (found == sizes_.end()) return std::nullopt;
  return found->second;
}

std::vector<rpc::ComputeDeviceReport> RemoteSampleRouter::Devices() const {
  absl::MutexLock lock(&sizes_mu_);
  LearnBaseModelsOnce();
  std::vector<rpc::ComputeDeviceReport> devices;
  for (const auto& [replica, device] : devices_) devices.push_back(device);
  return devices;
}

void RemoteSampleRouter::LearnBaseModelsOnce() const {
  if (sizes_known_ || absl::Now() < next_status_attempt_) return;
  sizes_known_ = LearnBaseModels();
  if (!sizes_known_) next_status_attempt_ = absl::Now() + options_.status_retry_interval;
}

bool RemoteSampleRouter::LearnBaseModels() const {
  bool answered = false;
  for (const Stub& replica : stubs_) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + replica.token);
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.status_timeout));
    internal::v1::GetStatusResponse status;
    if (!replica.stub->GetStatus(&context, internal::v1::GetStatusRequest(), &status).ok()) {
      continue;
    }
    answered = true;
    if (status.has_device()) devices_[replica.name] = rpc::FromProto(status.device());
    for (const auto& base : status.base_models()) {
      auto [entry, added] = sizes_.try_emplace(
          base.base_model_id(),
          rpc::BaseModelSampling{.native_side = base.native_side(),
                                 .max_side = base.max_side(),
                                 .tokens = {base.tokens().begin(), base.tokens().end()}});
      if (!added) entry->second.max_side = std::min(entry->second.max_side, base.max_side());
    }
  }
  return answered;
}

void RemoteSampleRouter::PrepareCall(const Stub& replica, const rpc::ModelRecipe& recipe,
                                     grpc::ClientContext& context) const {
  if (options_.grants != nullptr) options_.grants->Grant(replica.name, recipe.adapter_digests);
  context.AddMetadata("authorization", "Bearer " + replica.token);
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.call_timeout));
}

absl::Status RemoteSampleRouter::SampleOn(Stub& replica, const rpc::ModelRecipe& recipe,
                                          const internal::v1::SampleRequest& request,
                                          rpc::SampleSink& sink, bool* relayed_image) {
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  PrepareCall(replica, recipe, context);
  // The async API, one operation at a time: while the replica is silent
  // (building the model) the sink is still asked whether the caller left.
  CancellablePoll poll(&queue, &context, [&sink] { return sink.Cancelled(); },
                       options_.cancel_poll_interval);
  std::unique_ptr<grpc::ClientAsyncReaderInterface<internal::v1::SampleResponse>> reader =
      replica.stub->PrepareAsyncSample(&context, request, &queue);
  reader->StartCall(poll.tag());
  bool open = poll.Wait();
  internal::v1::SampleResponse message;
  absl::Status relayed;
  while (open) {
    reader->Read(&message, poll.tag());
    if (!poll.Wait()) break;
    if (sink.Cancelled()) {
      context.TryCancel();
      break;
    }
    relayed = rpc::RelayToSink(message.response(), sink);
    if (message.response().has_image()) *relayed_image = true;
    if (!relayed.ok()) {
      context.TryCancel();
      break;
    }
  }
  grpc::Status status;
  reader->Finish(&status, poll.tag());
  poll.Wait();
  if (!relayed.ok()) return relayed;
  if (poll.cancelled() || sink.Cancelled()) {
    return absl::CancelledError("the caller went away");
  }
  const absl::Status finished = rpc::FromGrpcStatus(status);
  if (absl::IsUnavailable(finished)) {
    return absl::UnavailableError(
        absl::StrCat("sampler replica ", replica.name, ": ", finished.message()));
  }
  return finished;
}

}  // namespace stamina::server
