// Integration: a remote training worker (GrpcJobSource + the training
// executor, as in stamina-worker) pulls jobs over the internal WorkQueue of a
// staminad that runs no training slots of its own; loopback, port 0, a real
// SQLite file, real training on the random stamina-test-tiny model.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "app/embedded_service.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "stamina/v1/sampler_service.grpc.pb.h"
#include "stamina/v1/training_service.grpc.pb.h"
#include "tests/loopback.h"
#include "worker/grpc_job_source.h"
#include "worker/testing/test_models.h"
#include "worker/training_executor.h"
#include "worker/worker.h"

namespace stamina {
namespace {

using ::testing::HasSubstr;

constexpr const char* kToken = kTestWorkerToken;

// Forwards to a JobSource and calls `cancel` once: right after a job is
// leased (`phase` unset), or before the first heartbeat that reports `phase`.
class CancellingSource final : public worker::JobSource {
 public:
  CancellingSource(worker::JobSource* inner, std::optional<storage::JobPhase> phase,
                   std::function<void()> cancel)
      : inner_(inner), phase_(phase), cancel_(std::move(cancel)) {}
  absl::StatusOr<std::optional<worker::Lease>> LeaseJob(const std::string& w) override {
    auto lease = inner_->LeaseJob(w);
    if (lease.ok() && lease->has_value() && !phase_.has_value()) Once();
    return lease;
  }
  absl::StatusOr<worker::HeartbeatReply> Heartbeat(
      const std::string& l, const storage::JobProgressRecord& p) override {
    if (phase_.has_value() && p.phase == *phase_) Once();
    return inner_->Heartbeat(l, p);
  }
  absl::StatusOr<std::string> ReadInput(const std::string& l, const std::string& d) override {
    return inner_->ReadInput(l, d);
  }
  absl::StatusOr<std::string> StoreArtifact(const std::string& l,
                                            const std::string& b) override {
    return inner_->StoreArtifact(l, b);
  }
  absl::StatusOr<int64_t> Complete(const std::string& l, const std::string& d,
                                   const v1::TrainingMetrics& m) override {
    return inner_->Complete(l, d, m);
  }
  absl::StatusOr<storage::JobState> Fail(const std::string& l,
                                         const storage::JobErrorRecord& e, bool c) override {
    return inner_->Fail(l, e, c);
  }
  bool cancelled() const { return done_; }

 private:
  void Once() {
    if (done_) return;
    done_ = true;
    cancel_();
  }

  worker::JobSource* const inner_;
  const std::optional<storage::JobPhase> phase_;
  std::function<void()> cancel_;
  bool done_ = false;
};

class RemoteWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    STAMINA_ASSERT_OK_AND_ASSIGN(base_, worker::SaveTestBaseModel("remote_base"));
    const std::string data = FreshTestDir("remote_data");
    server::ServiceLimits limits;
    limits.min_images_per_concept = 2;
    STAMINA_ASSERT_OK_AND_ASSIGN(
        service_, app::EmbeddedService::Create(
                      {.api = {.data_dir = data,
                               .limits = limits,
                               .watch_poll_interval = absl::Milliseconds(5),
                               .internal_listen_address = "127.0.0.1:0",
                               .internal_tokens = TestInternalTokens(),
                               .sample_defaults = {.steps = 3, .guidance_scale = 3}},
                       .base_model = {.id = base_.id, .dir = base_.dir},
                       .worker_slots = 0}));
    server::ApiServer& s = service_->server();
    STAMINA_ASSERT_OK(s.tenants().CreateTenant("acme", "").status());
    STAMINA_ASSERT_OK_AND_ASSIGN(auto key, s.tenants().CreateApiKey("acme"));
    key_ = key.secret;
    STAMINA_ASSERT_OK(
        s.models().CreateModel({.tenant_id = "acme", .id = "pets", .base_model_id = base_.id})
            .status());
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", s.internal_port()),
                                   grpc::InsecureChannelCredentials());
    public_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", s.port()),
                                  grpc::InsecureChannelCredentials());
  }

  void AddConcept(const std::string& id, int identity) {
    server::ApiServer& s = service_->server();
    STAMINA_ASSERT_OK(s.models()
                          .CreateConcept({.tenant_id = "acme",
                                          .model_id = "pets",
                                          .id = id,
                                          .token = "<" + id + ">"})
                          .status());
    for (const std::string& png : worker::IdentityPngs(identity, 2)) {
      STAMINA_ASSERT_OK_AND_ASSIGN(std::string digest, s.blobs().Put(png));
      STAMINA_ASSERT_OK(s.models()
                            .AddImage("acme", "pets", id,
                                      {.digest = digest,
                                       .width = 32,
                                       .height = 32,
                                       .size_bytes = static_cast<int64_t>(png.size())})
                            .status());
    }
    v1::TrainingSettings settings;
    settings.set_steps(3);
    settings.set_batch_size(2);
    settings.set_lora_rank(2);
    settings.set_seed(5);
    settings.add_target_modules("attn2.to_k");
    settings.add_target_modules("attn2.to_v");
    STAMINA_ASSERT_OK(s.jobs()
                          .Create({.tenant_id = "acme",
                                   .model_id = "pets",
                                   .concept_id = id,
                                   .settings = settings.SerializeAsString()})
                          .status());
  }

  std::unique_ptr<worker::Worker> RemoteWorker(const std::string& token) {
    auto source = worker::GrpcJobSource::Create(
        {.channel = channel_, .internal_token = token, .base_models = {base_.id}});
    EXPECT_THAT(source.status(), IsOk());
    source_ = std::move(*source);
    auto executor = worker::NewTrainingExecutor(
        {.base_models = {base_}, .min_heartbeat_interval = absl::ZeroDuration()});
    EXPECT_THAT(executor.status(), IsOk());
    executor_ = std::move(*executor);
    auto made = worker::Worker::Create(
        {.source = source_.get(), .executor = executor_.get(), .name = "remote-1"});
    EXPECT_THAT(made.status(), IsOk());
    return std::move(*made);
  }

  absl::StatusOr<int64_t> RunOne(worker::Worker& w) {
    absl::StatusOr<int64_t> outcome = absl::UnknownError("not run");
    absl::StatusOr<bool> ran = w.RunOnce(0, &outcome);
    if (!ran.ok()) return ran.status();
    if (!*ran) return absl::NotFoundError("nothing was runnable");
    return outcome;
  }

  worker::ResolvedBaseModel base_;
  std::string key_;
  std::unique_ptr<app::EmbeddedService> service_;
  std::shared_ptr<grpc::Channel> channel_;  // the internal listener
  std::shared_ptr<grpc::Channel> public_;
  std::unique_ptr<worker::JobSource> source_;
  std::unique_ptr<worker::JobExecutor> executor_;
};

TEST_F(RemoteWorkerTest, TrainsTwoConceptsOverTheWorkQueueThenTheySampleTogether) {
  AddConcept("anna", 0);
  AddConcept("mill", 1);
  std::unique_ptr<worker::Worker> remote = RemoteWorker(kToken);
  EXPECT_THAT(RunOne(*remote), IsOkAndHolds(1));
  EXPECT_THAT(RunOne(*remote), IsOkAndHolds(2));  // fetched adapter 1 to fold it
  EXPECT_THAT(RunOne(*remote), StatusCodeIs(absl::StatusCode::kNotFound));

  STAMINA_ASSERT_OK_AND_ASSIGN(auto chain,
                               service_->server().lineage().Lineage("acme", "pets", 2));
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[1].version.token, "<mill>");

  auto sampler = v1::SamplerService::NewStub(public_);
  v1::SampleRequest request;
  request.set_model("models/pets");
  request.set_prompt("<anna> near <mill>");
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + key_);
  auto reader = sampler->Sample(&context, request);
  v1::SampleResponse response;
  int images = 0;
  while (reader->Read(&response)) images += response.has_image() ? 1 : 0;
  const grpc::Status status = reader->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(images, 1);
}

TEST_F(RemoteWorkerTest, WrongTokenIsRefused) {
  AddConcept("anna", 0);
  std::unique_ptr<worker::Worker> remote = RemoteWorker("wrong");
  EXPECT_THAT(RunOne(*remote), StatusCodeIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(RemoteWorkerTest, CancelReachesTheRemoteWorkerThroughItsHeartbeat) {
  AddConcept("anna", 0);
  STAMINA_ASSERT_OK_AND_ASSIGN(
      storage::JobPage page,
      service_->server().jobs().List({.tenant_id = "acme", .model_id = "pets"}));
  ASSERT_EQ(page.jobs.size(), 1u);
  std::unique_ptr<worker::Worker> unused = RemoteWorker(kToken);
  const std::string job_id = page.jobs[0].id;
  // The cancel lands between the lease and the first heartbeat.
  CancellingSource cancel_first(source_.get(), std::nullopt, [&] {
    EXPECT_THAT(service_->server().jobs().Cancel("acme", "pets", job_id).status(), IsOk());
  });
  STAMINA_ASSERT_OK_AND_ASSIGN(
      auto remote, worker::Worker::Create({.source = &cancel_first, .executor = executor_.get()}));
  EXPECT_THAT(RunOne(*remote), StatusCodeIs(absl::StatusCode::kCancelled));
  STAMINA_ASSERT_OK_AND_ASSIGN(storage::JobRecord job,
                               service_->server().jobs().Get("acme", "pets", job_id));
  EXPECT_EQ(job.state, storage::JobState::kCancelled);
}

// Cancel while folding, over loopback: the public CancelJob RPC lands when the
// remote worker reports FOLDING; the worker stops, nothing is committed, and
// the concept can be trained again.
TEST_F(RemoteWorkerTest, CancelWhileFoldingCommitsNothing) {
  AddConcept("anna", 0);
  STAMINA_ASSERT_OK_AND_ASSIGN(
      storage::JobPage page,
      service_->server().jobs().List({.tenant_id = "acme", .model_id = "pets"}));
  ASSERT_EQ(page.jobs.size(), 1u);
  const std::string job_name = "models/pets/jobs/" + page.jobs[0].id;
  std::unique_ptr<worker::Worker> unused = RemoteWorker(kToken);
  auto training = v1::TrainingService::NewStub(public_);
  CancellingSource cancel_folding(source_.get(), storage::JobPhase::kFolding, [&] {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + key_);
    v1::CancelJobRequest request;
    request.set_name(job_name);
    v1::Job job;
    const grpc::Status status = training->CancelJob(&context, request, &job);
    EXPECT_TRUE(status.ok()) << status.error_message();
  });
  STAMINA_ASSERT_OK_AND_ASSIGN(
      auto remote,
      worker::Worker::Create({.source = &cancel_folding, .executor = executor_.get()}));
  EXPECT_THAT(RunOne(*remote), StatusCodeIs(absl::StatusCode::kCancelled));
  EXPECT_TRUE(cancel_folding.cancelled());
  STAMINA_ASSERT_OK_AND_ASSIGN(storage::JobRecord job,
                               service_->server().jobs().Get("acme", "pets", page.jobs[0].id));
  EXPECT_EQ(job.state, storage::JobState::kCancelled);
  STAMINA_ASSERT_OK_AND_ASSIGN(auto model, service_->server().models().GetModel("acme", "pets"));
  EXPECT_EQ(model.version_count, 0);
}

TEST(GrpcJobSourceTest, MalformedTaskNamesAreInvalidArgument) {
  internal::v1::TrainingTask task;
  task.set_job("models/pets/jobs/j1");
  task.set_concept("not a concept name");
  EXPECT_THAT(worker::GrpcJobSource::FromProto(task),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("task.concept")));
  task.set_concept("models/pets/concepts/anna");
  task.set_parent_version("models/pets/versions/x");
  EXPECT_THAT(worker::GrpcJobSource::FromProto(task),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  task.set_parent_version("models/pets/versions/3");
  task.set_base_model("baseModels/stamina-tiny-v1");
  STAMINA_ASSERT_OK_AND_ASSIGN(worker::TrainingTask parsed,
                               worker::GrpcJobSource::FromProto(task));
  EXPECT_EQ(parsed.parent_version, 3);
  EXPECT_EQ(parsed.base_model_id, "stamina-tiny-v1");
  EXPECT_EQ(parsed.job_id, "j1");
  EXPECT_EQ(parsed.concept_id, "anna");
}

}  // namespace
}  // namespace stamina
