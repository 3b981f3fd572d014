#include "worker/local_job_source.h"

#include <memory>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/testing/in_memory_blob_store.h"
#include "storage/testing/test_registry.h"

namespace stamina::worker {
namespace {

using ::testing::HasSubstr;

class LocalJobSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    STAMINA_ASSERT_OK_AND_ASSIGN(r_, storage::TestRegistry::Create());
    STAMINA_ASSERT_OK(r_->AddTrainableConcept("t1", "m1", "anna", 2));
    STAMINA_ASSERT_OK(r_->AddTrainableConcept("t1", "m1", "mill", 1));
    STAMINA_ASSERT_OK_AND_ASSIGN(source_, LocalJobSource::Create(
                                              {.jobs = &r_->jobs(),
                                               .models = &r_->models(),
                                               .lineage = &r_->lineage(),
                                               .blobs = &blobs_,
                                               .lease_ttl = absl::Seconds(60)}));
  }

  void Train(const std::string& concept_id, const std::string& settings) {
    STAMINA_ASSERT_OK(r_->jobs()
                          .Create({.tenant_id = "t1",
                                   .model_id = "m1",
                                   .concept_id = concept_id,
                                   .settings = settings})
                          .status());
  }

  Lease MustLease() {
    auto lease = source_->LeaseJob("w/0");
    EXPECT_THAT(lease.status(), IsOk());
    EXPECT_TRUE(lease.ok() && lease->has_value());
    return lease.ok() && lease->has_value() ? **lease : Lease{};
  }

  static std::string Steps(int steps) {
    v1::TrainingSettings s;
    s.set_steps(steps);
    return s.SerializeAsString();
  }

  storage::InMemoryBlobStore blobs_;
  std::unique_ptr<storage::TestRegistry> r_;
  std::unique_ptr<LocalJobSource> source_;
};

TEST_F(LocalJobSourceTest, NothingRunnableIsNoLease) {
  EXPECT_THAT(source_->LeaseJob("w/0"), IsOkAndHolds(::testing::Not(::testing::Optional(::testing::_))));
  EXPECT_THAT(source_->LeaseJob(""), StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(LocalJobSourceTest, LeaseDescribesTheTask) {
  Train("anna", Steps(5));
  const Lease lease = MustLease();
  EXPECT_EQ(lease.heartbeat_interval, absl::Seconds(20));
  const TrainingTask& task = lease.task;
  EXPECT_EQ(task.tenant_id, "t1");
  EXPECT_EQ(task.model_id, "m1");
  EXPECT_EQ(task.concept_id, "anna");
  EXPECT_EQ(task.token, "<anna>");
  EXPECT_EQ(task.attempt, 1);
  EXPECT_EQ(task.base_model_id, storage::TestRegistry::kBaseModel);
  EXPECT_FALSE(task.base_model_digest.empty());
  EXPECT_EQ(task.parent_version, std::nullopt);
  EXPECT_TRUE(task.parent_adapters.empty());
  ASSERT_EQ(task.images.size(), 2u);
  EXPECT_EQ(task.settings.steps(), 5);
}

TEST_F(LocalJobSourceTest, CompleteCommitsTheStoredArtifactAndTheNextTaskReadsIt) {
  Train("anna", Steps(5));
  Train("mill", Steps(5));
  const Lease first = MustLease();
  EXPECT_THAT(source_->Complete(first.lease_id, std::string(64, 'a'), {}),
              StatusCodeIs(absl::StatusCode::kFailedPrecondition));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string digest,
                               source_->StoreArtifact(first.lease_id, "adapter bytes"));
  STAMINA_ASSERT_OK(source_->Heartbeat(first.lease_id,
                                       {.phase = storage::JobPhase::kTraining,
                                        .step = 5,
                                        .total_steps = 5})
                        .status());
  EXPECT_THAT(source_->Complete(first.lease_id, digest, {}), IsOkAndHolds(1));

  const Lease second = MustLease();
  EXPECT_EQ(second.task.parent_version, 1);
  ASSERT_EQ(second.task.parent_adapters.size(), 1u);
  EXPECT_EQ(second.task.parent_adapters[0].token, "<anna>");
  EXPECT_EQ(second.task.parent_adapters[0].adapter_digest, digest);
  EXPECT_THAT(source_->ReadInput(second.lease_id, digest), IsOkAndHolds("adapter bytes"));
  EXPECT_THAT(source_->ReadInput(second.lease_id, std::string(64, 'b')),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("not an input")));
}

TEST_F(LocalJobSourceTest, CancelIsSeenInTheHeartbeat) {
  Train("anna", Steps(5));
  const Lease lease = MustLease();
  STAMINA_ASSERT_OK(r_->jobs().Cancel("t1", "m1", lease.task.job_id).status());
  STAMINA_ASSERT_OK_AND_ASSIGN(HeartbeatReply beat, source_->Heartbeat(lease.lease_id, {}));
  EXPECT_TRUE(beat.cancel_requested);
  EXPECT_THAT(source_->Fail(lease.lease_id, {}, /*cancelled=*/true),
              IsOkAndHolds(storage::JobState::kCancelled));
}

TEST_F(LocalJobSourceTest, EveryCallAfterALostLeaseIsAborted) {
  Train("anna", Steps(5));
  const Lease lease = MustLease();
  r_->clock().Advance(absl::Seconds(61));
  EXPECT_THAT(source_->Heartbeat(lease.lease_id, {}),
              StatusCodeIs(absl::StatusCode::kAborted));
  EXPECT_THAT(source_->ReadInput(lease.lease_id, lease.task.images[0].digest),
              StatusCodeIs(absl::StatusCode::kAborted));
  EXPECT_THAT(source_->StoreArtifact(lease.lease_id, "late"),
              StatusCodeIs(absl::StatusCode::kAborted));
  EXPECT_THAT(source_->Fail(lease.lease_id, {.code = 13}, false),
              StatusCodeIs(absl::StatusCode::kAborted));
  // The job came back for another worker.
  EXPECT_EQ(MustLease().task.attempt, 2);
}

TEST_F(LocalJobSourceTest, UnreadableSettingsFailTheJob) {
  Train("anna", "\xff\xff not a proto");
  EXPECT_THAT(source_->LeaseJob("w/0"), StatusCodeIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(source_->LeaseJob("w/0"), IsOkAndHolds(::testing::Not(::testing::Optional(::testing::_))));
}

}  // namespace
}  // namespace stamina::worker
