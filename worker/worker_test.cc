// The worker end to end over a real SQLite registry (TEST_TMPDIR) and real
// training on the random stamina-test-tiny model: success in lineage order,
// cancel while queued / preparing / training / folding, a lost lease, and a
// restarted worker picking up queued jobs. Time is a FakeClock; jobs run on
// the test thread through Worker::RunOnce.
#include "worker/worker.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/testing/fake_clock.h"
#include "common/testing/status_matchers.h"
#include "core/adapters/adapter_artifact.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sha256.h"
#include "storage/testing/in_memory_blob_store.h"
#include "storage/testing/test_registry.h"
#include "worker/local_job_source.h"
#include "worker/testing/test_models.h"
#include "worker/training_executor.h"

namespace stamina::worker {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kTenant[] = "acme";
constexpr char kModel[] = "pets";

// Forwards to a real source, letting a test act on each heartbeat first.
class ScriptedSource final : public JobSource {
 public:
  explicit ScriptedSource(JobSource* inner) : inner_(inner) {}
  std::function<void(const storage::JobProgressRecord&)> on_heartbeat;
  // Runs before each ReadInput (a slow download, a large base model).
  std::function<void()> on_read_input;
  std::atomic<int> heartbeats{0};  // heartbeats the inner source has answered
  // Notified when `completions_wanted` jobs completed.
  int completions_wanted = -1;
  absl::Notification completed;

  absl::StatusOr<std::optional<Lease>> LeaseJob(const std::string& w) override {
    return inner_->LeaseJob(w);
  }
  absl::StatusOr<HeartbeatReply> Heartbeat(const std::string& lease,
                                           const storage::JobProgressRecord& progress) override {
    if (on_heartbeat) on_heartbeat(progress);
    absl::StatusOr<HeartbeatReply> reply = inner_->Heartbeat(lease, progress);
    // Counted once the registry has it: a test that waits for a beat and then
    // moves the clock must not overtake the renewal it waited for.
    ++heartbeats;
    return reply;
  }
  absl::StatusOr<std::string> ReadInput(const std::string& lease,
                                        const std::string& digest) override {
    if (on_read_input) on_read_input();
    return inner_->ReadInput(lease, digest);
  }
  absl::StatusOr<std::string> StoreArtifact(const std::string& lease,
                                            const std::string& bytes) override {
    return inner_->StoreArtifact(lease, bytes);
  }
  absl::StatusOr<int64_t> Complete(const std::string& lease, const std::string& digest,
                                   const v1::TrainingMetrics& metrics) override {
    absl::StatusOr<int64_t> version = inner_->Complete(lease, digest, metrics);
    if (++completions_ == completions_wanted) completed.Notify();
    return version;
  }
  absl::StatusOr<storage::JobState> Fail(const std::string& lease,
                                         const storage::JobErrorRecord& error,
                                         bool cancelled) override {
    return inner_->Fail(lease, error, cancelled);
  }

 private:
  JobSource* const inner_;
  std::atomic<int> completions_{0};
};

v1::TrainingSettings FewSteps() {
  v1::TrainingSettings s;
  s.set_method(v1::TRAINING_METHOD_STAMINA);
  s.set_steps(4);
  s.set_batch_size(2);
  s.set_lora_rank(2);
  s.set_learning_rate(1e-3f);
  s.set_token_learning_rate(1e-2f);
  s.set_seed(7);
  s.add_target_modules("attn2.to_k");
  s.add_target_modules("attn2.to_v");
  s.mutable_stamina()->set_mask_rank(2);
  return s;
}

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    STAMINA_ASSERT_OK_AND_ASSIGN(
        registry_, storage::TestRegistry::Create({.file = "worker_test.db"}));
    STAMINA_ASSERT_OK_AND_ASSIGN(base_, SaveTestBaseModel("worker_test_base"));
    STAMINA_ASSERT_OK(
        registry_->models().PutBaseModel({.id = base_.id, .digest = base_.digest}).status());
    STAMINA_ASSERT_OK(registry_->AddTenant(kTenant));
    STAMINA_ASSERT_OK(registry_->models()
                          .CreateModel({.tenant_id = kTenant,
                                        .id = kModel,
                                        .base_model_id = base_.id})
                          .status());
    AddConcept("anna", 0);
    AddConcept("mill", 1);
    StartWorker();
  }

  void AddConcept(const std::string& id, int identity) {
    STAMINA_ASSERT_OK(registry_->models()
                          .CreateConcept({.tenant_id = kTenant,
                                          .model_id = kModel,
                                          .id = id,
                                          .token = "<" + id + ">",
                                          .caption_templates = {"a face of {}"}})
                          .status());
    int i = 0;
    for (const std::string& png : IdentityPngs(identity, 3)) {
      STAMINA_ASSERT_OK_AND_ASSIGN(std::string digest, blobs_.Put(png));
      STAMINA_ASSERT_OK(registry_->models()
                            .AddImage(kTenant, kModel, id,
                                      {.digest = digest,
                                       .format = storage::ImageFormat::kPng,
                                       .width = 32,
                                       .height = 32,
                                       .size_bytes = static_cast<int64_t>(png.size()),
                                       .filename = absl::StrCat(id, i++, ".png")})
                            .status());
    }
  }

  // (Re)creates source, executor and worker over the same registry, as a
  // restarted process would.
  void StartWorker(absl::Duration lease_ttl = absl::Seconds(60), double drift_budget = 0.2,
                   int micro_batch_size = 0) {
    worker_.reset();
    STAMINA_ASSERT_OK_AND_ASSIGN(source_, LocalJobSource::Create(
                                              {.jobs = &registry_->jobs(),
                                               .models = &registry_->models(),
                                               .lineage = &registry_->lineage(),
                                               .blobs = &blobs_,
                                               .lease_ttl = lease_ttl}));
    scripted_ = std::make_unique<ScriptedSource>(source_.get());
    STAMINA_ASSERT_OK_AND_ASSIGN(
        executor_, NewTrainingExecutor({.base_models = {base_},
                                        .clock = &registry_->clock(),
                                        .min_heartbeat_interval = absl::ZeroDuration(),
                                        .drift_budget = drift_budget,
                                        .micro_batch_size = micro_batch_size}));
    STAMINA_ASSERT_OK_AND_ASSIGN(worker_, Worker::Create({.source = scripted_.get(),
                                                          .executor = executor_.get(),
                                                          .slots = 1,
                                                          .name = "test"}));
  }

  storage::JobRecord Train(const std::string& concept_id) {
    auto job = registry_->jobs().Create({.tenant_id = kTenant,
                                         .model_id = kModel,
                                         .concept_id = concept_id,
                                         .settings = FewSteps().SerializeAsString()});
    EXPECT_THAT(job.status(), IsOk());
    return job.ok() ? *job : storage::JobRecord{};
  }

  storage::JobRecord Reload(const storage::JobRecord& job) {
    auto now = registry_->jobs().Get(kTenant, kModel, job.id);
    EXPECT_THAT(now.status(), IsOk());
    return now.ok() ? *now : storage::JobRecord{};
  }

  absl::StatusOr<int64_t> RunOne() {
    absl::StatusOr<int64_t> outcome = absl::UnknownError("not run");
    absl::StatusOr<bool> ran = worker_->RunOnce(0, &outcome);
    if (!ran.ok()) return ran.status();
    if (!*ran) return absl::NotFoundError("nothing was runnable");
    return outcome;
  }

  // Cancels `job` at the first heartbeat of `phase` (after `step` steps).
  void CancelAt(const storage::JobRecord& job, storage::JobPhase phase, int step = 0) {
    scripted_->on_heartbeat = [this, job, phase, step](const storage::JobProgressRecord& p) {
      if (p.phase == phase && p.step >= step) {
        EXPECT_THAT(registry_->jobs().Cancel(kTenant, kModel, job.id).status(), IsOk());
        scripted_->on_heartbeat = nullptr;
      }
    };
  }

  storage::InMemoryBlobStore blobs_;
  std::unique_ptr<storage::TestRegistry> registry_;
  ResolvedBaseModel base_;
  std::unique_ptr<LocalJobSource> source_;
  std::unique_ptr<ScriptedSource> scripted_;
  std::unique_ptr<JobExecutor> executor_;
  std::unique_ptr<Worker> worker_;
};

TEST_F(WorkerTest, TrainsTwoConceptsInOrderIntoALineage) {
  const storage::JobRecord anna = Train("anna");
  const storage::JobRecord mill = Train("mill");
  std::vector<storage::JobProgressRecord> beats;
  scripted_->on_heartbeat = [&](const storage::JobProgressRecord& p) { beats.push_back(p); };

  EXPECT_THAT(RunOne(), IsOkAndHolds(1));
  EXPECT_THAT(RunOne(), IsOkAndHolds(2));
  EXPECT_THAT(RunOne(), StatusCodeIs(absl::StatusCode::kNotFound));

  EXPECT_EQ(Reload(anna).state, storage::JobState::kSucceeded);
  EXPECT_EQ(Reload(anna).result_version, 1);
  EXPECT_EQ(Reload(mill).parent_version, 1);
  STAMINA_ASSERT_OK_AND_ASSIGN(auto chain,
                               registry_->lineage().Lineage(kTenant, kModel, 2));
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0].version.token, "<anna>");
  EXPECT_EQ(chain[1].version.token, "<mill>");
  EXPECT_EQ(chain[1].image_digests.size(), 3u);
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string artifact,
                               blobs_.Get(chain[1].version.adapter_digest));
  EXPECT_THAT(artifact, HasSubstr("stamina-adapter/1"));
  v1::TrainingMetrics metrics;
  ASSERT_TRUE(metrics.ParseFromString(chain[1].version.metrics));
  EXPECT_EQ(metrics.steps(), 4);
  EXPECT_GT(metrics.stored_parameters(), 0);

  // Every phase was reported, and training reported each step with a loss.
  std::vector<storage::JobPhase> phases;
  for (const auto& beat : beats) {
    if (phases.empty() || phases.back() != beat.phase) phases.push_back(beat.phase);
    if (beat.phase == storage::JobPhase::kTraining && beat.step > 0) {
      EXPECT_EQ(beat.total_steps, 4);
      EXPECT_GT(beat.loss, 0);
    }
  }
  const std::vector<storage::JobPhase> one_job = {
      storage::JobPhase::kPreparing, storage::JobPhase::kTraining,
      storage::JobPhase::kFolding, storage::JobPhase::kCommitting};
  std::vector<storage::JobPhase> two_jobs = one_job;
  two_jobs.insert(two_jobs.end(), one_job.begin(), one_job.end());
  EXPECT_EQ(phases, two_jobs);
}

// Issue 17: the forgetting metric. Each version keeps its concept's drift
// reference in the artifact, and a later version reports how far the earlier
// concept drifted. These 4-step jobs are too short for the default budget
// (20% of training), so the test grants more.
TEST_F(WorkerTest, ALaterVersionReportsTheDriftOfTheEarlierConcept) {
  StartWorker(absl::Seconds(60), /*drift_budget=*/100);
  Train("anna");
  Train("mill");
  EXPECT_THAT(RunOne(), IsOkAndHolds(1));
  EXPECT_THAT(RunOne(), IsOkAndHolds(2));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto chain, registry_->lineage().Lineage(kTenant, kModel, 2));
  ASSERT_EQ(chain.size(), 2u);
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string bytes, blobs_.Get(chain[0].version.adapter_digest));
  STAMINA_ASSERT_OK_AND_ASSIGN(core::AdapterArtifact artifact, core::ParseAdapterArtifact(bytes));
  ASSERT_TRUE(artifact.drift_reference.has_value());
  EXPECT_THAT(artifact.drift_reference->prompts,
              ElementsAre("a photo of <anna>", "a face of <anna>"));
  EXPECT_EQ(artifact.drift_reference->images.size(), 4u);

  v1::TrainingMetrics first, second;
  ASSERT_TRUE(first.ParseFromString(chain[0].version.metrics));
  ASSERT_TRUE(second.ParseFromString(chain[1].version.metrics));
  EXPECT_EQ(first.concept_drift_size(), 0);  // nothing earlier to measure
  ASSERT_EQ(second.concept_drift_size(), 1);
  const v1::ConceptDrift& drift = second.concept_drift(0);
  EXPECT_EQ(drift.concept(), "models/pets/concepts/anna");
  EXPECT_EQ(drift.token(), "<anna>");
  EXPECT_EQ(drift.learned_version(), "models/pets/versions/1");
  EXPECT_EQ(drift.images(), 4);
  // Learning <mill> moved <anna>'s samples a little (its own token keeps
  // it), and never by as much as a different subject.
  EXPECT_GT(drift.drift(), 0.0);
  EXPECT_LT(drift.drift(), 0.15);
}

// Issue 19: --micro_batch_size reaches the trainer (each step of the 2-image
// batch in passes of 1), and the artifact records it.
TEST_F(WorkerTest, MicroBatchSizeSplitsEachStep) {
  StartWorker(absl::Seconds(60), /*drift_budget=*/0, /*micro_batch_size=*/1);
  Train("anna");
  EXPECT_THAT(RunOne(), IsOkAndHolds(1));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto chain, registry_->lineage().Lineage(kTenant, kModel, 1));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string bytes, blobs_.Get(chain[0].version.adapter_digest));
  STAMINA_ASSERT_OK_AND_ASSIGN(core::AdapterArtifact artifact, core::ParseAdapterArtifact(bytes));
  EXPECT_EQ(artifact.metadata.at("batch_size"), "2");
  EXPECT_EQ(artifact.metadata.at("micro_batch_size"), "1");
  EXPECT_THAT(NewTrainingExecutor({.base_models = {base_}, .micro_batch_size = -1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("micro_batch_size")));
}

TEST_F(WorkerTest, AZeroDriftBudgetKeepsNoReferenceAndMeasuresNothing) {
  StartWorker(absl::Seconds(60), /*drift_budget=*/0);
  Train("anna");
  Train("mill");
  EXPECT_THAT(RunOne(), IsOkAndHolds(1));
  EXPECT_THAT(RunOne(), IsOkAndHolds(2));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto chain, registry_->lineage().Lineage(kTenant, kModel, 2));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string bytes, blobs_.Get(chain[0].version.adapter_digest));
  STAMINA_ASSERT_OK_AND_ASSIGN(core::AdapterArtifact artifact, core::ParseAdapterArtifact(bytes));
  EXPECT_FALSE(artifact.drift_reference.has_value());
  v1::TrainingMetrics second;
  ASSERT_TRUE(second.ParseFromString(chain[1].version.metrics));
  EXPECT_EQ(second.concept_drift_size(), 0);
}

// Issue 18: the preparing phase sends no step heartbeats; reading its inputs
// here takes twice the lease (the registry's clock advances half a lease per
// keep-alive beat seen), and the keep-alive thread's beats hold the lease,
// so the job still commits.
TEST_F(WorkerTest, ASlowPreparingPhaseKeepsItsLease) {
  const absl::Duration ttl = absl::Seconds(30);  // heartbeat_interval 10 s
  StartWorker(ttl);
  const storage::JobRecord anna = Train("anna");
  bool slowed = false;
  scripted_->on_read_input = [&] {
    if (slowed) return;
    slowed = true;
    for (int i = 0; i < 4; ++i) {
      const int seen = scripted_->heartbeats;
      registry_->clock().Advance(ttl / 2);
      const absl::Time give_up = absl::Now() + absl::Seconds(10);
      while (scripted_->heartbeats == seen && absl::Now() < give_up) {
        absl::SleepFor(absl::Milliseconds(1));  // waiting for the keep-alive beat
      }
      ASSERT_GT(scripted_->heartbeats, seen) << "no keep-alive beat after " << i;
    }
  };
  EXPECT_THAT(RunOne(), IsOkAndHolds(1));
  EXPECT_EQ(Reload(anna).state, storage::JobState::kSucceeded);
}

TEST_F(WorkerTest, CancelWhileQueuedNeverRuns) {
  const storage::JobRecord anna = Train("anna");
  STAMINA_ASSERT_OK(registry_->jobs().Cancel(kTenant, kModel, anna.id).status());
  EXPECT_THAT(RunOne(), StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(Reload(anna).state, storage::JobState::kCancelled);
  EXPECT_EQ(scripted_->heartbeats, 0);
}

TEST_F(WorkerTest, CancelAtEveryPhaseCommitsNothing) {
  // (Once COMMITTING is recorded, the JobStore refuses cancellation.)
  for (storage::JobPhase phase :
       {storage::JobPhase::kPreparing, storage::JobPhase::kTraining,
        storage::JobPhase::kFolding}) {
    SCOPED_TRACE(static_cast<int>(phase));
    // A cancelled concept goes back to DRAFT and can be trained again.
    const storage::JobRecord job = Train("anna");
    CancelAt(job, phase, phase == storage::JobPhase::kTraining ? 2 : 0);
    EXPECT_THAT(RunOne(), StatusCodeIs(absl::StatusCode::kCancelled));
    EXPECT_EQ(Reload(job).state, storage::JobState::kCancelled);
    STAMINA_ASSERT_OK_AND_ASSIGN(auto model, registry_->models().GetModel(kTenant, kModel));
    EXPECT_EQ(model.version_count, 0);
  }
}

TEST_F(WorkerTest, LostLeaseAbortsTheWorkAndTheRetryCommitsOnce) {
  const storage::JobRecord anna = Train("anna");
  scripted_->on_heartbeat = [this](const storage::JobProgressRecord& p) {
    if (p.phase == storage::JobPhase::kTraining && p.step >= 1) {
      registry_->clock().Advance(absl::Minutes(2));  // the lease expires
      scripted_->on_heartbeat = nullptr;
    }
  };
  EXPECT_THAT(RunOne(), StatusCodeIs(absl::StatusCode::kAborted));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto model, registry_->models().GetModel(kTenant, kModel));
  EXPECT_EQ(model.version_count, 0);

  EXPECT_THAT(RunOne(), IsOkAndHolds(1));  // re-queued, second attempt
  EXPECT_EQ(Reload(anna).attempt, 2);
  EXPECT_EQ(Reload(anna).state, storage::JobState::kSucceeded);
}

TEST_F(WorkerTest, RestartedWorkerRunsQueuedJobs) {
  const storage::JobRecord anna = Train("anna");
  const storage::JobRecord mill = Train("mill");
  StartWorker();
  EXPECT_THAT(RunOne(), IsOkAndHolds(1));
  StartWorker();
  EXPECT_THAT(RunOne(), IsOkAndHolds(2));
  EXPECT_EQ(Reload(mill).state, storage::JobState::kSucceeded);
}

TEST_F(WorkerTest, ModelOnOtherBaseWeightsFailsWithoutRetry) {
  ResolvedBaseModel other = base_;
  other.digest = storage::Sha256Hex("other weights");
  STAMINA_ASSERT_OK_AND_ASSIGN(executor_, NewTrainingExecutor({.base_models = {other},
                                                               .clock = &registry_->clock()}));
  STAMINA_ASSERT_OK_AND_ASSIGN(worker_, Worker::Create({.source = scripted_.get(),
                                                        .executor = executor_.get()}));
  const storage::JobRecord anna = Train("anna");
  EXPECT_THAT(RunOne(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                 HasSubstr("created on weights")));
  EXPECT_EQ(Reload(anna).state, storage::JobState::kFailed);
}

TEST_F(WorkerTest, ThreadedSlotsDrainTheQueueAndStop) {
  Train("anna");
  const storage::JobRecord mill = Train("mill");
  scripted_->completions_wanted = 2;
  STAMINA_ASSERT_OK_AND_ASSIGN(
      worker_, Worker::Create({.source = scripted_.get(),
                               .executor = executor_.get(),
                               .slots = 2,
                               .poll_interval = absl::Milliseconds(5)}));
  worker_->Start();
  scripted_->completed.WaitForNotification();
  worker_->Stop();
  EXPECT_EQ(Reload(mill).state, storage::JobState::kSucceeded);
  EXPECT_EQ(worker_->jobs_run(), 2);
}

}  // namespace
}  // namespace stamina::worker
