// RemoteSampleRouter against fake sampler replicas over loopback: relaying,
// the stable model→replica mapping, fail-over on UNAVAILABLE only, and
// cancellation passed through.
#include "server/remote_sample_router.h"

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rpc/grpc_status.h"
#include "rpc/sample_messages.h"

namespace stamina::server {
namespace {

namespace iv1 = ::stamina::internal::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Streams loading progress and one image whose PNG bytes are its name, or
// fails with `fail`; in `endless` mode streams progress until cancelled.
class FakeReplica final : public iv1::SamplerBackend::Service {
 public:
  explicit FakeReplica(std::string name) : name_(std::move(name)) {}

  grpc::Status Sample(grpc::ServerContext* call, const iv1::SampleRequest* request,
                      grpc::ServerWriter<iv1::SampleResponse>* writer) override {
    {
      absl::MutexLock lock(&mu_);
      requests_.push_back(*request);
    }
    const auto auth = call->client_metadata().find("authorization");
    if (auth == call->client_metadata().end() || auth->second != "Bearer token-of-" + name_) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "token");
    }
    if (!fail_.ok()) return rpc::ToGrpcStatus(fail_);
    if (silent_) return BuildUntilCancelled(*call);
    iv1::SampleResponse message;
    if (endless_) {
      for (int step = 0; step < 1000000; ++step) {
        *message.mutable_response() = rpc::ProgressMessage(rpc::SamplePhase::kDenoising, step, 0);
        if (call->IsCancelled() || !writer->Write(message)) break;
      }
      saw_cancel_.Notify();
      return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    }
    *message.mutable_response() = rpc::ProgressMessage(rpc::SamplePhase::kLoading, 0, 0);
    writer->Write(message);
    *message.mutable_response() =
        rpc::ImageMessage({.index = 0, .png = name_, .width = 8, .height = 8,
                      .seed = request->request().seed()},
                     request->recipe().version());
    writer->Write(message);
    return grpc::Status::OK;
  }

  grpc::Status Warm(grpc::ServerContext* call, const iv1::WarmRequest* request,
                    iv1::WarmResponse* /*response*/) override {
    {
      absl::MutexLock lock(&mu_);
      warms_.push_back(*request);
    }
    const auto auth = call->client_metadata().find("authorization");
    if (auth == call->client_metadata().end() || auth->second != "Bearer token-of-" + name_) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "token");
    }
    if (silent_) return BuildUntilCancelled(*call);
    return rpc::ToGrpcStatus(fail_);
  }

  // Serves base "tiny" at 32 px, up to max_side_ px (replicas' memory budgets
  // differ), with one built-in token.
  grpc::Status GetStatus(grpc::ServerContext* call, const iv1::GetStatusRequest* /*request*/,
                         iv1::GetStatusResponse* response) override {
    status_calls_.fetch_add(1);
    const auto auth = call->client_metadata().find("authorization");
    if (auth == call->client_metadata().end() || auth->second != "Bearer token-of-" + name_) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "token");
    }
    auto* base = response->add_base_models();
    base->set_base_model_id("tiny");
    base->set_native_side(32);
    base->set_max_side(max_side_);
    base->add_tokens("<builtin>");
    response->mutable_device()->set_role("sampling");
    response->mutable_device()->set_device("cuda:0");
    response->mutable_device()->set_description("GPU of " + name_);
    response->mutable_device()->set_compute_dtype("bf16");
    return grpc::Status::OK;
  }
  void SetMaxSide(int side) { max_side_ = side; }
  int status_calls() const { return status_calls_.load(); }

  // "Building the model", sending nothing, until the call is cancelled.
  grpc::Status BuildUntilCancelled(grpc::ServerContext& call) {
    started_.Notify();
    while (!call.IsCancelled() &&
           !released_.WaitForNotificationWithTimeout(absl::Milliseconds(5))) {
    }
    saw_cancel_.Notify();
    return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  }

  std::vector<iv1::SampleRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  std::vector<iv1::WarmRequest> warms() {
    absl::MutexLock lock(&mu_);
    return warms_;
  }
  void Fail(absl::Status status) { fail_ = std::move(status); }
  void Endless() { endless_ = true; }
  void Silent() { silent_ = true; }
  absl::Notification& saw_cancel() { return saw_cancel_; }
  absl::Notification& started() { return started_; }
  void Release() {
    if (!released_.HasBeenNotified()) released_.Notify();
  }

 private:
  const std::string name_;
  absl::Status fail_;
  bool endless_ = false;
  bool silent_ = false;
  int max_side_ = 256;
  std::atomic<int> status_calls_{0};
  absl::Notification saw_cancel_;
  absl::Notification started_;
  absl::Notification released_;
  absl::Mutex mu_;
  std::vector<iv1::SampleRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<iv1::WarmRequest> warms_ ABSL_GUARDED_BY(mu_);
};

class RecordingSink final : public rpc::SampleSink {
 public:
  bool Cancelled() override {
    return (cancel_after_ >= 0 && progress_ > cancel_after_) ||
           (cancel_when_ != nullptr && cancel_when_->HasBeenNotified());
  }
  void Progress(rpc::SamplePhase phase, int /*step*/, int /*total_steps*/) override {
    ++progress_;
    phases_.push_back(phase);
  }
  absl::Status Image(const rpc::SampledImage& image) override {
    images_.push_back(image);
    return absl::OkStatus();
  }

  int cancel_after_ = -1;
  const absl::Notification* cancel_when_ = nullptr;
  int progress_ = 0;
  std::vector<rpc::SamplePhase> phases_;
  std::vector<rpc::SampledImage> images_;
};

class RemoteSampleRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"a", "b", "c"}) {
      auto fake = std::make_unique<FakeReplica>(name);
      grpc::ServerBuilder builder;
      int port = 0;
      builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
      builder.RegisterService(fake.get());
      servers_.push_back(builder.BuildAndStart());
      ASSERT_NE(port, 0);
      replicas_.push_back(
          {.name = name,
           .channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                          grpc::InsecureChannelCredentials()),
           .token = absl::StrCat("token-of-", name)});
      fakes_[name] = std::move(fake);
    }
    auto router = RemoteSampleRouter::Create(
        {.replicas = replicas_, .grants = &grants_});
    ASSERT_THAT(router, IsOk());
    router_ = std::move(*router);
  }
  void TearDown() override {
    for (auto& [name, fake] : fakes_) fake->Release();
    for (auto& server : servers_) server->Shutdown();
  }

  static rpc::ModelRecipe Recipe(const std::string& model) {
    return {.tenant_id = "acme",
            .model_id = model,
            .version = 2,
            .base_model_id = "tiny",
            .base_model_digest = std::string(64, 'b'),
            .adapter_digests = {std::string(64, '1'), std::string(64, '2')},
            .tokens = {"<anna>", "<mill>"}};
  }

  BlobGrants grants_{{}};
  std::vector<RemoteSampleRouter::Replica> replicas_;
  std::vector<std::unique_ptr<grpc::Server>> servers_;
  std::map<std::string, std::unique_ptr<FakeReplica>> fakes_;
  std::unique_ptr<RemoteSampleRouter> router_;
};

TEST_F(RemoteSampleRouterTest, RelaysTheHomeReplicasStream) {
  const rpc::ModelRecipe recipe = Recipe("m");
  const std::string home = router_->ReplicasFor(recipe)[0];
  RecordingSink sink;
  ASSERT_THAT(router_->Sample(recipe, {.prompt = "<anna>", .steps = 3, .seed = 42}, sink),
              IsOk());
  EXPECT_THAT(sink.phases_, ElementsAre(rpc::SamplePhase::kLoading));
  ASSERT_EQ(sink.images_.size(), 1u);
  EXPECT_EQ(sink.images_[0].png, home);
  EXPECT_EQ(sink.images_[0].seed, 42);

  const std::vector<iv1::SampleRequest> sent = fakes_[home]->requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].tenant(), "acme");
  EXPECT_EQ(sent[0].recipe().model(), "models/m");
  EXPECT_EQ(sent[0].recipe().version(), "models/m/versions/2");
  EXPECT_EQ(sent[0].recipe().base_model(), "baseModels/tiny");
  EXPECT_THAT(sent[0].recipe().tokens(), ElementsAre("<anna>", "<mill>"));
  EXPECT_EQ(sent[0].request().prompt(), "<anna>");
  EXPECT_EQ(sent[0].request().steps(), 3);
  // The replica reads back what the front end sent.
  auto back = rpc::RecipeFromProto(sent[0].recipe(), sent[0].tenant(), "recipe");
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->version, recipe.version);
  EXPECT_EQ(back->adapter_digests, recipe.adapter_digests);
  EXPECT_EQ(back->tokens, recipe.tokens);
  // Only the replica that was sent the model may read its adapters back.
  for (const std::string& digest : recipe.adapter_digests) {
    for (const RemoteSampleRouter::Replica& replica : replicas_) {
      EXPECT_EQ(grants_.IsGranted(replica.name, digest), replica.name == home)
          << replica.name;
    }
  }
}

TEST_F(RemoteSampleRouterTest, SendsAModelToOneReplicaAndSpreadsModels) {
  std::set<std::string> used;
  for (int i = 0; i < 30; ++i) {
    const rpc::ModelRecipe recipe = Recipe(absl::StrCat("m", i));
    for (int call = 0; call < 2; ++call) {
      RecordingSink sink;
      ASSERT_THAT(router_->Sample(recipe, {.steps = 1}, sink), IsOk());
      ASSERT_EQ(sink.images_.size(), 1u);
      EXPECT_EQ(sink.images_[0].png, router_->ReplicasFor(recipe)[0]);
      used.insert(sink.images_[0].png);
    }
  }
  EXPECT_EQ(used.size(), 3u);
  // Another tenant's model of the same id is another key.
  rpc::ModelRecipe other = Recipe("m0");
  other.tenant_id = "globex";
  EXPECT_EQ(router_->ReplicasFor(other).size(), 3u);
}

TEST_F(RemoteSampleRouterTest, WarmsOnTheReplicaThatWillServeTheModel) {
  const rpc::ModelRecipe recipe = Recipe("m");
  const std::vector<std::string> order = router_->ReplicasFor(recipe);
  ASSERT_THAT(router_->Warm(recipe, nullptr), IsOk());
  std::vector<iv1::WarmRequest> sent = fakes_[order[0]]->warms();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].tenant(), "acme");
  EXPECT_EQ(sent[0].recipe().version(), "models/m/versions/2");
  EXPECT_THAT(sent[0].recipe().adapter_digests(), ElementsAre(recipe.adapter_digests[0],
                                                              recipe.adapter_digests[1]));
  EXPECT_TRUE(fakes_[order[1]]->warms().empty());

  // A draining home: the replica Sample would fail over to; other errors are
  // the call's.
  fakes_[order[0]]->Fail(absl::UnavailableError("draining"));
  ASSERT_THAT(router_->Warm(recipe, nullptr), IsOk());
  EXPECT_EQ(fakes_[order[1]]->warms().size(), 1u);
  fakes_[order[1]]->Fail(absl::ResourceExhaustedError("model does not fit"));
  EXPECT_THAT(router_->Warm(recipe, nullptr), StatusCodeIs(absl::StatusCode::kResourceExhausted));
  EXPECT_TRUE(fakes_[order[2]]->warms().empty());
  fakes_[order[1]]->Fail(absl::UnavailableError("down"));
  fakes_[order[2]]->Fail(absl::UnavailableError("down"));
  EXPECT_THAT(router_->Warm(recipe, nullptr),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(order[2])));
}

TEST_F(RemoteSampleRouterTest, FailsOverOnUnavailableOnly) {
  const rpc::ModelRecipe recipe = Recipe("m");
  const std::vector<std::string> order = router_->ReplicasFor(recipe);
  fakes_[order[0]]->Fail(absl::UnavailableError("draining"));
  RecordingSink sink;
  ASSERT_THAT(router_->Sample(recipe, {.steps = 1}, sink), IsOk());
  ASSERT_EQ(sink.images_.size(), 1u);
  EXPECT_EQ(sink.images_[0].png, order[1]);

  fakes_[order[1]]->Fail(absl::ResourceExhaustedError("model does not fit"));
  RecordingSink second;
  EXPECT_THAT(router_->Sample(recipe, {.steps = 1}, second),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("does not fit")));
  EXPECT_TRUE(fakes_[order[2]]->requests().empty());

  fakes_[order[1]]->Fail(absl::UnavailableError("draining"));
  fakes_[order[2]]->Fail(absl::UnavailableError("draining"));
  RecordingSink none;
  EXPECT_THAT(router_->Sample(recipe, {.steps = 1}, none),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("no sampler replica")));
}

TEST_F(RemoteSampleRouterTest, SkipsAReplicaThatIsDown) {
  const rpc::ModelRecipe recipe = Recipe("m");
  const std::vector<std::string> order = router_->ReplicasFor(recipe);
  for (size_t i = 0; i < replicas_.size(); ++i) {
    if (replicas_[i].name == order[0]) servers_[i]->Shutdown();
  }
  RecordingSink sink;
  ASSERT_THAT(router_->Sample(recipe, {.steps = 1}, sink), IsOk());
  ASSERT_EQ(sink.images_.size(), 1u);
  EXPECT_EQ(sink.images_[0].png, order[1]);
}

TEST_F(RemoteSampleRouterTest, PassesCancellationThrough) {
  const rpc::ModelRecipe recipe = Recipe("m");
  const std::string home = router_->ReplicasFor(recipe)[0];
  fakes_[home]->Endless();
  RecordingSink sink;
  sink.cancel_after_ = 3;
  EXPECT_THAT(router_->Sample(recipe, {.steps = 1}, sink),
              StatusCodeIs(absl::StatusCode::kCancelled));
  EXPECT_TRUE(fakes_[home]->saw_cancel().WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(fakes_[home]->requests().size(), 1u);
}

// The caller leaves while the replica is still building the model and sends
// nothing: the sink is polled and the replica's call cancelled.
TEST_F(RemoteSampleRouterTest, CancelsWhileTheReplicaIsStillSilent) {
  const rpc::ModelRecipe recipe = Recipe("m");
  const std::string home = router_->ReplicasFor(recipe)[0];
  fakes_[home]->Silent();
  RecordingSink sink;
  sink.cancel_when_ = &fakes_[home]->started();
  EXPECT_THAT(router_->Sample(recipe, {.steps = 1}, sink),
              StatusCodeIs(absl::StatusCode::kCancelled));
  EXPECT_TRUE(fakes_[home]->saw_cancel().WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_TRUE(sink.images_.empty());
}

// A warm-up on a replica still building is abandoned when asked to (the
// front end shutting down).
TEST_F(RemoteSampleRouterTest, AbandonsAWarmUpWhenCancelled) {
  const rpc::ModelRecipe recipe = Recipe("m");
  const std::string home = router_->ReplicasFor(recipe)[0];
  fakes_[home]->Silent();
  const absl::Notification& started = fakes_[home]->started();
  EXPECT_THAT(router_->Warm(recipe, [&started] { return started.HasBeenNotified(); }),
              StatusCodeIs(absl::StatusCode::kCancelled));
  EXPECT_TRUE(fakes_[home]->saw_cancel().WaitForNotificationWithTimeout(absl::Seconds(30)));
}

// GetCapabilities and the Sample checks need the base model's sizes, which
// only the replicas know: asked once, the smallest max_side kept.
TEST_F(RemoteSampleRouterTest, LearnsBaseModelSizesFromTheReplicasOnce) {
  fakes_["b"]->SetMaxSide(128);
  const std::optional<rpc::BaseModelSampling> sizes = router_->SamplingOf("tiny");
  ASSERT_TRUE(sizes.has_value());
  EXPECT_EQ(sizes->native_side, 32);
  EXPECT_EQ(sizes->max_side, 128);
  EXPECT_THAT(sizes->tokens, ::testing::ElementsAre("<builtin>"));
  EXPECT_FALSE(router_->SamplingOf("unknown-base").has_value());
  EXPECT_TRUE(router_->SamplingOf("tiny").has_value());
  for (const auto& [name, fake] : fakes_) EXPECT_EQ(fake->status_calls(), 1) << name;

  // Issue 19: each replica's device, learnt in the same call.
  const std::vector<rpc::ComputeDeviceReport> devices = router_->Devices();
  ASSERT_EQ(devices.size(), fakes_.size());
  for (const rpc::ComputeDeviceReport& device : devices) {
    EXPECT_EQ(device.device, "cuda:0");
    EXPECT_EQ(device.compute_dtype, "bf16");
    EXPECT_THAT(device.description, ::testing::StartsWith("GPU of "));
  }
  for (const auto& [name, fake] : fakes_) EXPECT_EQ(fake->status_calls(), 1) << name;
}

// While no replica answers, Sample calls do not each wait for the replicas'
// status calls again: they are retried after status_retry_interval only.
TEST_F(RemoteSampleRouterTest, AsksSilentReplicasAgainOnlyAfterTheRetryInterval) {
  std::vector<RemoteSampleRouter::Replica> refusing = replicas_;
  for (auto& replica : refusing) replica.token = "not-their-token";
  auto router = RemoteSampleRouter::Create(
      {.replicas = refusing, .status_retry_interval = absl::Hours(1)});
  ASSERT_THAT(router, IsOk());
  EXPECT_FALSE((*router)->SamplingOf("tiny").has_value());
  EXPECT_FALSE((*router)->SamplingOf("tiny").has_value());
  for (const auto& [name, fake] : fakes_) EXPECT_EQ(fake->status_calls(), 1) << name;
}

TEST(RemoteSampleRouterCreateTest, RejectsBadOptions) {
  EXPECT_THAT(RemoteSampleRouter::Create({}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("replicas")));
  STAMINA_ASSERT_OK_AND_ASSIGN(
      rpc::InternalTokens tokens,
      rpc::InternalTokens::FromEntries(
          {{.principal = {.role = rpc::InternalRole::kSampler, .name = "127.0.0.1:1"},
            .token = std::string(32, 't')}}));
  EXPECT_THAT(RemoteSampleRouter::ReplicasAt({"127.0.0.1:2"},
                                             grpc::InsecureChannelCredentials(), tokens),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sampler 127.0.0.1:2")));
  STAMINA_ASSERT_OK_AND_ASSIGN(
      std::vector<RemoteSampleRouter::Replica> replicas,
      RemoteSampleRouter::ReplicasAt({"127.0.0.1:1", "127.0.0.1:1"},
                                     grpc::InsecureChannelCredentials(), tokens));
  EXPECT_EQ(replicas[0].token, std::string(32, 't'));
  EXPECT_THAT(RemoteSampleRouter::Create({.replicas = replicas}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("twice")));
  replicas.pop_back();
  replicas[0].token.clear();
  EXPECT_THAT(RemoteSampleRouter::Create({.replicas = replicas}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("token")));
}

}  // namespace
}  // namespace stamina::server
