// File: server/remote_sample_router.h
//
// RemoteSampleRouter: the SampleRouter of a scaled-out staminad. It sends
// each Sample call to a sampler replica (stamina-sampler, the
// stamina.internal.v1.SamplerBackend service) chosen by rendezvous hashing of
// tenant + model id (server/replica_ranking.h), so one model's calls go to
// one replica and its folded-model cache stays warm, and adding a replica
// moves only ~1/N of the models. A replica that answers UNAVAILABLE (down,
// unreachable or draining) before any image was relayed is skipped for the
// next one in the model's rank order; every other status is the call's.
// Warm builds a new version on the replica that will serve it, by the same
// rule. Each replica is called with its own token, and just before a call
// the recipe's adapters are granted to that replica (server/blob_grants.h),
// the only blobs it may then read back.
// The base models' sizes (SamplingOf: GetCapabilities and the Sample checks)
// come from the replicas' GetStatus, asked on first need and kept: a base is
// immutable (its digest is fixed), so the first answer stays true. While no
// replica answers, they are asked again at most every status_retry_interval,
// so Sample calls (which ask for the sizes) never queue behind dead
// replicas' status calls one after another. When
// replicas disagree (memory budgets differ), the smallest max_side is kept,
// which every replica accepts.
// Progress and images are relayed to the sink as they arrive; when the sink
// reports the caller gone, the replica's call is cancelled, even while the
// replica sends nothing (building the model): the sink is asked every
// cancel_poll_interval.
//
// gRPC client code only: no torch, no gRPC server types. Thread-safe (gRPC
// stubs are); the sink is used by one call only.
#ifndef STAMINA_SERVER_REMOTE_SAMPLE_ROUTER_H_
#define STAMINA_SERVER_REMOTE_SAMPLE_ROUTER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "rpc/internal_auth.h"
#include "rpc/sample_router.h"
#include "server/blob_grants.h"
#include "stamina/internal/v1/sampler_backend.grpc.pb.h"

namespace stamina::server {

class RemoteSampleRouter final : public rpc::SampleRouter {
 public:
  struct Replica {
    // Its stable identity in the mapping (the address it is reached at).
    std::string name;
    std::shared_ptr<grpc::Channel> channel;
    // Its own token (rpc/internal_auth.h), sent as `authorization: Bearer`.
    std::string token;
  };
  struct Options {
    std::vector<Replica> replicas;
    // Where the recipes' adapters are granted; not owned; may be null (tests).
    BlobGrants* grants = nullptr;
    // Deadline of one replica call (building a model included).
    absl::Duration call_timeout = absl::Minutes(10);
    // How often a Sample call whose replica is silent (building the model)
    // asks the sink whether the caller went away.
    absl::Duration cancel_poll_interval = absl::Milliseconds(100);
    // Deadline of one GetStatus call asking a replica for its base models.
    absl::Duration status_timeout = absl::Seconds(5);
    // How long after no replica answered they are asked again.
    absl::Duration status_retry_interval = absl::Seconds(30);
  };

  // Channels to `addresses` (host:port) with `credentials` (plaintext or
  // TLS: rpc/tls_credentials.h), each named by its address, with the token
  // `tokens` holds for sampler <address>: INVALID_ARGUMENT naming the address
  // when there is none.
  static absl::StatusOr<std::vector<Replica>> ReplicasAt(
      const std::vector<std::string>& addresses,
      const std::shared_ptr<grpc::ChannelCredentials>& credentials,
      const rpc::InternalTokens& tokens);

  // INVALID_ARGUMENT for no replicas, an unnamed, duplicate, token-less or
  // channel-less one.
  static absl::StatusOr<std::unique_ptr<RemoteSampleRouter>> Create(Options options);

  absl::Status Sample(const rpc::ModelRecipe& recipe,
                      const rpc::SampleParams& params,
                      rpc::SampleSink& sink) override;

  // SamplerBackend.Warm on the replica the model's Sample calls go to (the
  // first in its rank order that is not UNAVAILABLE).
  absl::Status Warm(const rpc::ModelRecipe& recipe,
                    const std::function<bool()>& cancelled) override;

  // The base model's sizes as the replicas report them; nullopt while no
  // replica answers or none serves it.
  // The devices of the replicas that have answered GetStatus (learnt with
  // the base models' sizes).
  std::vector<rpc::ComputeDeviceReport> Devices() const override;

  std::optional<rpc::BaseModelSampling> SamplingOf(
      const std::string& base_model_id) const override;

  // The replicas' names in the order `recipe`'s model tries them.
  std::vector<std::string> ReplicasFor(const rpc::ModelRecipe& recipe) const;

 private:
  struct Stub {
    std::string name;
    std::string token;
    std::unique_ptr<internal::v1::SamplerBackend::Stub> stub;
  };
  RemoteSampleRouter(Options options, std::vector<Stub> stubs);

  // A call context for `replica` presenting its token, and the recipe's
  // adapters granted to it.
  void PrepareCall(const Stub& replica, const rpc::ModelRecipe& recipe,
                   grpc::ClientContext& context) const;

  // One attempt on one replica; `*relayed_image` says whether an image
  // reached the sink (no fail-over after that).
  absl::Status SampleOn(Stub& replica, const rpc::ModelRecipe& recipe,
                        const internal::v1::SampleRequest& request,
                        rpc::SampleSink& sink, bool* relayed_image);

  // Asks every replica for its base models (and device); true when one
  // answered.
  bool LearnBaseModels() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(sizes_mu_);
  // LearnBaseModels until one round is answered, at most once per
  // status_retry_interval while none is.
  void LearnBaseModelsOnce() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(sizes_mu_);

  const Options options_;
  std::vector<std::string> names_;
  std::vector<Stub> stubs_;
  mutable absl::Mutex sizes_mu_;
  mutable bool sizes_known_ ABSL_GUARDED_BY(sizes_mu_) = false;
  mutable absl::Time next_status_attempt_ ABSL_GUARDED_BY(sizes_mu_) = absl::InfinitePast();
  mutable std::map<std::string, rpc::BaseModelSampling> sizes_ ABSL_GUARDED_BY(sizes_mu_);
  // By replica name: the device each replica said it samples on.
  mutable std::map<std::string, rpc::ComputeDeviceReport> devices_ ABSL_GUARDED_BY(sizes_mu_);
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_REMOTE_SAMPLE_ROUTER_H_
