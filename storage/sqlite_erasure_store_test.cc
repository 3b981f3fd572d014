#include "storage/sqlite_erasure_store.h"

#include <algorithm>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sha256.h"
#include "storage/testing/test_registry.h"

namespace stamina::storage {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class ErasureStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = TestRegistry::Create();
    ASSERT_THAT(registry, IsOk());
    r_ = std::move(*registry);
  }

  absl::StatusOr<JobRecord> Queue(const std::string& concept) {
    absl::Status added = r_->AddTrainableConcept("t1", "m", concept, 2);
    if (!added.ok()) return added;
    return r_->jobs().Create(
        {.tenant_id = "t1", .model_id = "m", .concept_id = concept, .settings = "s-" + concept});
  }

  // Claims the next job, which must be for `concept`, and completes it.
  absl::StatusOr<VersionRecord> RunNext(const std::string& concept) {
    auto lease = r_->jobs().Claim("w", absl::Seconds(30));
    if (!lease.ok()) return lease.status();
    if (!lease->has_value()) return absl::InternalError("nothing claimed");
    if ((*lease)->job.concept_id != concept) {
      return absl::InternalError("claimed " + (*lease)->job.concept_id + ", not " + concept);
    }
    return r_->jobs().Complete(
        (*lease)->lease_id,
        {.adapter_digest = Sha256Hex("adapter-" + concept + "-" + std::to_string(++trained_)),
         .metrics = "m-" + concept});
  }

  absl::StatusOr<VersionRecord> TrainNow(const std::string& concept) {
    absl::StatusOr<JobRecord> job = Queue(concept);
    if (!job.ok()) return job.status();
    return RunNext(concept);
  }

  absl::StatusOr<ErasureResult> Erase(const std::string& concept,
                                      ErasureMode mode = ErasureMode::kReplay) {
    return r_->erasures().EraseConcept({.tenant_id = "t1",
                                        .model_id = "m",
                                        .concept_id = concept,
                                        .mode = mode,
                                        .requested_by = "apiKeys/k1"});
  }

  std::vector<std::string> LineageConcepts() {
    std::vector<std::string> out;
    for (const LineageStep& step : *r_->lineage().Lineage("t1", "m", std::nullopt)) {
      out.push_back(step.version.concept_id);
    }
    return out;
  }

  std::unique_ptr<TestRegistry> r_;
  int trained_ = 0;
};

TEST_F(ErasureStoreTest, ErasingTheMiddleConceptReplaysTheLaterOnes) {
  STAMINA_ASSERT_OK(TrainNow("anna").status());  // v1
  STAMINA_ASSERT_OK(TrainNow("mill").status());  // v2
  STAMINA_ASSERT_OK(TrainNow("rex").status());   // v3
  r_->clock().Advance(absl::Minutes(1));
  STAMINA_ASSERT_OK_AND_ASSIGN(ErasureResult result, Erase("mill"));
  const ErasureRecord& e = result.erasure;
  EXPECT_EQ(e.concept_id, "mill");
  EXPECT_EQ(e.token, "<mill>");
  EXPECT_EQ(e.mode, ErasureMode::kReplay);
  EXPECT_EQ(e.state, ErasureState::kReplaying);
  EXPECT_EQ(e.requested_by, "apiKeys/k1");
  EXPECT_EQ(e.restart_version, 1);
  ASSERT_EQ(e.erased_versions.size(), 2u);
  EXPECT_EQ(e.erased_versions[0].version, 2);
  EXPECT_EQ(e.erased_versions[0].concept_id, "mill");
  EXPECT_EQ(e.erased_versions[1].version, 3);
  EXPECT_EQ(e.erased_versions[1].concept_id, "rex");
  EXPECT_EQ(e.erased_versions[1].parent_version, 2);
  ASSERT_EQ(e.replay_job_ids.size(), 1u);
  EXPECT_EQ(e.replay_count, 1);
  EXPECT_EQ(e.image_references, 2);
  // The concept, its images and both adapters derived from it are gone.
  EXPECT_THAT(result.erased.concepts, ElementsAre("models/m/concepts/mill"));
  EXPECT_THAT(result.erased.versions, ElementsAre("models/m/versions/2", "models/m/versions/3"));
  EXPECT_THAT(result.erased.unreferenced_blobs,
              Contains(TestRegistry::ImageDigest("m", "mill", 0)));
  EXPECT_THAT(result.erased.unreferenced_blobs, Contains(Sha256Hex("adapter-mill-2")));
  EXPECT_THAT(result.erased.unreferenced_blobs, Contains(Sha256Hex("adapter-rex-3")));
  EXPECT_THAT(result.erased.unreferenced_blobs,
              Not(Contains(TestRegistry::ImageDigest("m", "rex", 0))));
  EXPECT_THAT(r_->models().GetConcept("t1", "m", "mill"),
              StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(r_->models().GetModel("t1", "m")->head_version, 1);
  EXPECT_EQ(r_->models().GetConcept("t1", "m", "rex")->state, ConceptState::kTraining);
  EXPECT_THAT(r_->lineage().GetVersion("t1", "m", 2), StatusCodeIs(absl::StatusCode::kNotFound));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::optional<ErasureRecord> of2,
                               r_->erasures().ErasureOfVersion("t1", "m", 2));
  ASSERT_TRUE(of2.has_value());
  EXPECT_EQ(of2->id, e.id);
  EXPECT_EQ(*r_->erasures().ErasureOfVersion("t1", "m", 1), std::nullopt);

  // The replay job trains rex again on v1 with the settings it had.
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord replay, r_->jobs().Get("t1", "m", e.replay_job_ids[0]));
  EXPECT_EQ(replay.concept_id, "rex");
  EXPECT_EQ(replay.settings, "s-rex");
  EXPECT_EQ(replay.erasure_id, e.id);
  EXPECT_EQ(replay.replay_of_version, 3);
  STAMINA_ASSERT_OK_AND_ASSIGN(VersionRecord v4, RunNext("rex"));
  EXPECT_EQ(v4.version, 4);  // numbers are never reused
  EXPECT_EQ(v4.parent_version, 1);
  EXPECT_THAT(LineageConcepts(), ElementsAre("anna", "rex"));
  STAMINA_ASSERT_OK_AND_ASSIGN(VersionRecord read, r_->lineage().GetVersion("t1", "m", 4));
  EXPECT_EQ(read.erasure_id, e.id);
  EXPECT_EQ(read.replay_of_version, 3);
  STAMINA_ASSERT_OK_AND_ASSIGN(ErasureRecord done, r_->erasures().GetErasure("t1", "m", e.id));
  EXPECT_EQ(done.state, ErasureState::kSucceeded);
  EXPECT_EQ(done.replay_succeeded, 1);
  EXPECT_THAT(r_->erasures().ListErasures("t1", "m"),
              IsOkAndHolds(ElementsAre(::testing::Field(&ErasureRecord::id, e.id))));
}

TEST_F(ErasureStoreTest, QueuedJobsRunAfterTheReplays) {
  STAMINA_ASSERT_OK(TrainNow("anna").status());
  STAMINA_ASSERT_OK(TrainNow("mill").status());
  STAMINA_ASSERT_OK(TrainNow("rex").status());
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord zed, Queue("zed"));
  STAMINA_ASSERT_OK(Erase("anna").status());
  STAMINA_ASSERT_OK(RunNext("mill").status());
  STAMINA_ASSERT_OK(RunNext("rex").status());
  STAMINA_ASSERT_OK(RunNext("zed").status());
  EXPECT_THAT(LineageConcepts(), ElementsAre("mill", "rex", "zed"));
  EXPECT_EQ(r_->jobs().Get("t1", "m", zed.id)->state, JobState::kSucceeded);
}

TEST_F(ErasureStoreTest, ARunningJobIsHandedBackAndRunsAfterTheReplays) {
  STAMINA_ASSERT_OK(TrainNow("anna").status());
  STAMINA_ASSERT_OK(TrainNow("mill").status());
  STAMINA_ASSERT_OK(Queue("zed").status());
  STAMINA_ASSERT_OK_AND_ASSIGN(std::optional<JobLease> zed,
                               r_->jobs().Claim("w", absl::Seconds(30)));
  ASSERT_TRUE(zed.has_value());
  EXPECT_EQ(zed->job.parent_version, 2);  // contains anna
  STAMINA_ASSERT_OK(Erase("anna").status());
  // Its worker's lease is lost: nothing trained on anna can be committed.
  EXPECT_THAT(r_->jobs().Heartbeat(zed->lease_id, {}, absl::Seconds(30)),
              StatusCodeIs(absl::StatusCode::kAborted));
  EXPECT_THAT(r_->jobs().Complete(zed->lease_id, {.adapter_digest = Sha256Hex("late")}),
              StatusCodeIs(absl::StatusCode::kAborted));
  STAMINA_ASSERT_OK(RunNext("mill").status());
  STAMINA_ASSERT_OK_AND_ASSIGN(std::optional<JobLease> again,
                               r_->jobs().Claim("w", absl::Seconds(30)));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->job.concept_id, "zed");
  EXPECT_EQ(again->job.attempt, 1);  // the lost attempt does not count
  EXPECT_EQ(again->job.parent_version, r_->models().GetModel("t1", "m")->head_version);
}

TEST_F(ErasureStoreTest, DropModeLeavesTheLaterConceptsDraft) {
  STAMINA_ASSERT_OK(TrainNow("anna").status());
  STAMINA_ASSERT_OK(TrainNow("mill").status());
  STAMINA_ASSERT_OK(TrainNow("rex").status());
  STAMINA_ASSERT_OK_AND_ASSIGN(ErasureResult result, Erase("mill", ErasureMode::kDrop));
  EXPECT_EQ(result.erasure.state, ErasureState::kSucceeded);
  EXPECT_TRUE(result.erasure.replay_job_ids.empty());
  EXPECT_EQ(r_->models().GetConcept("t1", "m", "rex")->state, ConceptState::kDraft);
  EXPECT_EQ(r_->jobs().Claim("w", absl::Seconds(30))->has_value(), false);
  EXPECT_THAT(LineageConcepts(), ElementsAre("anna"));
}

TEST_F(ErasureStoreTest, ACancelledReplayLeavesTheErasureIncomplete) {
  STAMINA_ASSERT_OK(TrainNow("anna").status());
  STAMINA_ASSERT_OK(TrainNow("mill").status());
  STAMINA_ASSERT_OK_AND_ASSIGN(ErasureResult result, Erase("anna"));
  STAMINA_ASSERT_OK(r_->jobs().Cancel("t1", "m", result.erasure.replay_job_ids[0]).status());
  EXPECT_EQ(r_->erasures().GetErasure("t1", "m", result.erasure.id)->state,
            ErasureState::kIncomplete);
  EXPECT_EQ(r_->models().GetConcept("t1", "m", "mill")->state, ConceptState::kDraft);
  EXPECT_EQ(r_->models().GetModel("t1", "m")->head_version, std::nullopt);
}

TEST_F(ErasureStoreTest, RefusesWhatCannotBeErasedAndIsIdempotent) {
  STAMINA_ASSERT_OK(TrainNow("anna").status());
  STAMINA_ASSERT_OK(r_->AddTrainableConcept("t1", "m", "draft", 2));
  EXPECT_THAT(Erase("draft"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("folded into no version")));
  EXPECT_THAT(Erase("nobody"), StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(
      r_->erasures().EraseConcept({.tenant_id = "t2", .model_id = "m", .concept_id = "anna"}),
      StatusCodeIs(absl::StatusCode::kNotFound));
  ConceptErasure keyed{.tenant_id = "t1",
                       .model_id = "m",
                       .concept_id = "anna",
                       .request_id = "r1",
                       .request_sha256 = "sha-a"};
  STAMINA_ASSERT_OK_AND_ASSIGN(ErasureResult first, r_->erasures().EraseConcept(keyed));
  STAMINA_ASSERT_OK_AND_ASSIGN(ErasureResult retry, r_->erasures().EraseConcept(keyed));
  EXPECT_EQ(retry.erasure.id, first.erasure.id);
  EXPECT_TRUE(retry.erased.concepts.empty());
  keyed.request_sha256 = "sha-b";
  EXPECT_THAT(r_->erasures().EraseConcept(keyed), StatusCodeIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(ErasureStoreTest, KeepsTheProofOfErasure) {
  STAMINA_ASSERT_OK(TrainNow("anna").status());
  STAMINA_ASSERT_OK(TrainNow("mill").status());
  STAMINA_ASSERT_OK_AND_ASSIGN(ErasureResult result,
                               r_->erasures().EraseConcept({.tenant_id = "t1",
                                                            .model_id = "m",
                                                            .concept_id = "anna",
                                                            .proof_prompt = "a photo of <anna>",
                                                            .drift_before = 0.25}));
  EXPECT_EQ(result.erasure.proof_prompt, "a photo of <anna>");
  EXPECT_EQ(result.erasure.drift_before, 0.25);
  EXPECT_EQ(result.erasure.drift_after, std::nullopt);
  STAMINA_ASSERT_OK_AND_ASSIGN(VersionRecord replayed, RunNext("mill"));
  STAMINA_ASSERT_OK(
      r_->erasures().RecordDriftAfter("t1", "m", result.erasure.id, replayed.version, 0.02));
  STAMINA_ASSERT_OK_AND_ASSIGN(ErasureRecord read,
                               r_->erasures().GetErasure("t1", "m", result.erasure.id));
  EXPECT_EQ(read.drift_after, 0.02);
  EXPECT_EQ(read.proof_version, replayed.version);
  EXPECT_THAT(r_->erasures().RecordDriftAfter("t1", "m", "nope", 1, 0),
              StatusCodeIs(absl::StatusCode::kNotFound));
}

TEST_F(ErasureStoreTest, DeletingTheModelDeletesItsErasures) {
  STAMINA_ASSERT_OK(TrainNow("anna").status());
  STAMINA_ASSERT_OK(TrainNow("mill").status());
  STAMINA_ASSERT_OK(Erase("anna").status());
  STAMINA_ASSERT_OK(r_->models().DeleteModel("t1", "m").status());
  STAMINA_ASSERT_OK(r_->AddModel("t1", "m"));
  EXPECT_THAT(r_->erasures().ListErasures("t1", "m"), IsOkAndHolds(::testing::IsEmpty()));
}

}  // namespace
}  // namespace stamina::storage
