#include "storage/sqlite_job_store.h"

#include <memory>
#include <string>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sha256.h"
#include "storage/testing/test_registry.h"

namespace stamina::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::Duration kTtl = absl::Seconds(30);

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = TestRegistry::Create({.max_open_jobs_per_tenant = 50,
                                          .min_images_per_concept = 2,
                                          .max_attempts = 2});
    ASSERT_THAT(registry, IsOk());
    r_ = std::move(*registry);
  }

  absl::StatusOr<JobRecord> Train(const std::string& tenant,
                                  const std::string& model,
                                  const std::string& concept,
                                  const std::string& request_id = "") {
    if (!r_->models().GetConcept(tenant, model, concept).ok()) {
      absl::Status added = r_->AddTrainableConcept(tenant, model, concept, 2);
      if (!added.ok()) return added;
    }
    return r_->jobs().Create({.tenant_id = tenant,
                              .model_id = model,
                              .concept_id = concept,
                              .settings = "steps=10",
                              .request_id = request_id,
                              .request_fingerprint = concept});
  }

  JobLease MustClaim(const std::string& worker = "w1") {
    auto lease = r_->jobs().Claim(worker, kTtl);
    EXPECT_THAT(lease, IsOk());
    EXPECT_TRUE(lease.ok() && lease->has_value()) << "nothing to claim";
    return lease.ok() && lease->has_value() ? **lease : JobLease{};
  }

  absl::StatusOr<VersionRecord> Finish(const JobLease& lease) {
    return r_->jobs().Complete(
        lease.lease_id, {.adapter_digest = Sha256Hex(lease.job.id),
                         .adapter_size_bytes = 100,
                         .metrics = "loss=0.1"});
  }

  std::unique_ptr<TestRegistry> r_;
};

TEST_F(JobStoreTest, CreateQueuesAndFreezesTheConcept) {
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord job, Train("t1", "m1", "anna"));
  EXPECT_EQ(job.state, JobState::kQueued);
  EXPECT_EQ(job.model_id, "m1");
  EXPECT_EQ(job.concept_id, "anna");
  EXPECT_EQ(job.settings, "steps=10");
  EXPECT_EQ(job.attempt, 0);
  EXPECT_EQ(job.create_time, r_->clock().Now());
  STAMINA_ASSERT_OK_AND_ASSIGN(ConceptRecord concept,
                               r_->models().GetConcept("t1", "m1", "anna"));
  EXPECT_EQ(concept.state, ConceptState::kTraining);
  EXPECT_THAT(r_->models().AddImage("t1", "m1", "anna",
                                    {.digest = Sha256Hex("late")}),
              StatusCodeIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(r_->jobs().Get("t1", "m1", job.id), IsOk());
}

TEST_F(JobStoreTest, CreateChecksPreconditions) {
  EXPECT_THAT(r_->jobs().Create({.tenant_id = "t1", .model_id = "nope",
                                 .concept_id = "anna"}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("models/nope")));
  STAMINA_ASSERT_OK(r_->AddModel("t1", "m1"));
  EXPECT_THAT(r_->jobs().Create({.tenant_id = "t1", .model_id = "m1",
                                 .concept_id = "ghost"}),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("models/m1/concepts/ghost")));
  STAMINA_ASSERT_OK(r_->AddTrainableConcept("t1", "m1", "few", 1));
  EXPECT_THAT(r_->jobs().Create({.tenant_id = "t1", .model_id = "m1",
                                 .concept_id = "few"}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("at least 2")));
  STAMINA_ASSERT_OK(Train("t1", "m1", "anna").status());
  EXPECT_THAT(r_->jobs().Create({.tenant_id = "t1", .model_id = "m1",
                                 .concept_id = "anna"}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("already")));
  // Another tenant cannot see t1's model.
  EXPECT_THAT(Train("t2", "m1", "anna"), IsOk());  // its own m1
  EXPECT_THAT(r_->jobs().Create({.tenant_id = "t3", .model_id = "m1",
                                 .concept_id = "anna"}),
              StatusCodeIs(absl::StatusCode::kNotFound));
}

TEST_F(JobStoreTest, IdempotencyKeyReturnsTheOriginalJob) {
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord first,
                               Train("t1", "m1", "anna", "req-1"));
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord again,
                               Train("t1", "m1", "anna", "req-1"));
  EXPECT_EQ(again.id, first.id);
  // Same key, different content.
  EXPECT_THAT(Train("t1", "m1", "bob", "req-1"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("req-1")));
  // Keys are per tenant.
  EXPECT_THAT(Train("t2", "m1", "anna", "req-1"), IsOk());
}

TEST_F(JobStoreTest, TenantOpenJobLimitIsResourceExhausted) {
  auto registry = TestRegistry::Create({.max_open_jobs_per_tenant = 2});
  ASSERT_THAT(registry, IsOk());
  TestRegistry& r = **registry;
  for (const char* c : {"a", "b", "c"}) {
    STAMINA_ASSERT_OK(r.AddTrainableConcept("t1", "m1", c));
  }
  STAMINA_ASSERT_OK(r.jobs().Create({.tenant_id = "t1", .model_id = "m1",
                                     .concept_id = "a"}).status());
  STAMINA_ASSERT_OK(r.jobs().Create({.tenant_id = "t1", .model_id = "m1",
                                     .concept_id = "b"}).status());
  EXPECT_THAT(r.jobs().Create({.tenant_id = "t1", .model_id = "m1",
                               .concept_id = "c"}),
              StatusCodeIs(absl::StatusCode::kResourceExhausted));
}

TEST_F(JobStoreTest, OneRunningJobPerModelInCreationOrder) {
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord a, Train("t1", "m1", "a"));
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord b, Train("t1", "m1", "b"));
  EXPECT_EQ(a.open_jobs_ahead, 0);
  EXPECT_EQ(b.open_jobs_ahead, 1);
  JobLease first = MustClaim();
  EXPECT_EQ(first.job.id, a.id);
  EXPECT_EQ(first.job.state, JobState::kRunning);
  EXPECT_EQ(first.job.attempt, 1);
  EXPECT_EQ(first.job.progress.phase, JobPhase::kPreparing);
  EXPECT_EQ(first.job.parent_version, std::nullopt);
  EXPECT_EQ(first.expire_time, r_->clock().Now() + kTtl);
  EXPECT_THAT(r_->jobs().GetLeased(first.lease_id),
              IsOkAndHolds(::testing::Field(&JobRecord::id, a.id)));
  // b waits for a even though a worker is free.
  EXPECT_THAT(r_->jobs().Claim("w2", kTtl), IsOkAndHolds(::testing::Eq(std::nullopt)));
  STAMINA_ASSERT_OK_AND_ASSIGN(VersionRecord v1, Finish(first));
  JobLease second = MustClaim("w2");
  EXPECT_EQ(second.job.id, b.id);
  // b trains on the head that a created.
  EXPECT_EQ(second.job.parent_version, v1.version);
}

TEST_F(JobStoreTest, TenantsAreServedRoundRobin) {
  // t1 queues everything first; creation order alone would serve it first.
  for (const char* tenant : {"t1", "t2"}) {
    for (int i = 0; i < 3; ++i) {
      // Each job on its own model, so all are runnable at once.
      STAMINA_ASSERT_OK(
          Train(tenant, "m" + std::to_string(i), "c").status());
    }
  }
  std::vector<std::string> order;
  for (int i = 0; i < 6; ++i) order.push_back(MustClaim().job.tenant_id);
  EXPECT_THAT(order, ElementsAre("t1", "t2", "t1", "t2", "t1", "t2"));
}

TEST_F(JobStoreTest, CompleteCommitsExactlyOneVersion) {
  STAMINA_ASSERT_OK(Train("t1", "m1", "anna").status());
  JobLease lease = MustClaim();
  r_->clock().Advance(absl::Seconds(5));
  STAMINA_ASSERT_OK_AND_ASSIGN(VersionRecord v, Finish(lease));
  EXPECT_EQ(v.version, 1);
  EXPECT_EQ(v.parent_version, std::nullopt);
  EXPECT_EQ(v.concept_id, "anna");
  EXPECT_EQ(v.token, "<anna>");
  EXPECT_EQ(v.job_id, lease.job.id);
  EXPECT_EQ(v.depth, 1);
  EXPECT_EQ(v.metrics, "loss=0.1");
  EXPECT_EQ(v.settings, "steps=10");
  STAMINA_ASSERT_OK_AND_ASSIGN(ModelRecord model,
                               r_->models().GetModel("t1", "m1"));
  EXPECT_EQ(model.head_version, 1);
  EXPECT_EQ(model.version_count, 1);
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord job,
                               r_->jobs().Get("t1", "m1", lease.job.id));
  EXPECT_EQ(job.state, JobState::kSucceeded);
  EXPECT_EQ(job.result_version, 1);
  EXPECT_EQ(job.end_time, r_->clock().Now());
  EXPECT_EQ(r_->models().GetConcept("t1", "m1", "anna")->state,
            ConceptState::kTrained);
  // A retried completion (e.g. after a lost response) cannot add a version.
  EXPECT_THAT(Finish(lease), StatusCodeIs(absl::StatusCode::kAborted));
  EXPECT_EQ(r_->models().GetModel("t1", "m1")->version_count, 1);
}

TEST_F(JobStoreTest, HeartbeatRecordsProgressAndRelaysCancel) {
  STAMINA_ASSERT_OK(Train("t1", "m1", "anna").status());
  JobLease lease = MustClaim();
  r_->clock().Advance(absl::Seconds(20));
  STAMINA_ASSERT_OK_AND_ASSIGN(
      HeartbeatResult beat,
      r_->jobs().Heartbeat(lease.lease_id,
                           {.phase = JobPhase::kTraining, .step = 40,
                            .total_steps = 100, .loss = 0.5f,
                            .training_seconds = 19},
                           kTtl));
  EXPECT_FALSE(beat.cancel_requested);
  EXPECT_EQ(beat.expire_time, r_->clock().Now() + kTtl);
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord job,
                               r_->jobs().Get("t1", "m1", lease.job.id));
  EXPECT_EQ(job.progress.phase, JobPhase::kTraining);
  EXPECT_EQ(job.progress.step, 40);
  EXPECT_EQ(job.progress.total_steps, 100);
  EXPECT_FLOAT_EQ(job.progress.loss, 0.5f);
  EXPECT_EQ(job.lease_owner, "w1");

  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord cancelling,
                               r_->jobs().Cancel("t1", "m1", lease.job.id));
  EXPECT_EQ(cancelling.state, JobState::kRunning);
  EXPECT_TRUE(cancelling.cancel_requested);
  EXPECT_THAT(r_->jobs().Heartbeat(lease.lease_id, {}, kTtl),
              IsOkAndHolds(::testing::Field(&HeartbeatResult::cancel_requested,
                                            true)));
  // The worker stops and reports it.
  EXPECT_THAT(r_->jobs().Fail(lease.lease_id, {}, /*cancelled=*/true),
              IsOkAndHolds(JobState::kCancelled));
  EXPECT_EQ(r_->models().GetConcept("t1", "m1", "anna")->state,
            ConceptState::kDraft);
}

TEST_F(JobStoreTest, CancelledBeforeCommitCreatesNoVersion) {
  STAMINA_ASSERT_OK(Train("t1", "m1", "anna").status());
  JobLease lease = MustClaim();
  STAMINA_ASSERT_OK(r_->jobs().Cancel("t1", "m1", lease.job.id).status());
  EXPECT_THAT(Finish(lease), StatusCodeIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(r_->jobs().Get("t1", "m1", lease.job.id)->state,
            JobState::kCancelled);
  EXPECT_EQ(r_->models().GetModel("t1", "m1")->version_count, 0);
}

TEST_F(JobStoreTest, CancelIsRefusedWhileCommitting) {
  STAMINA_ASSERT_OK(Train("t1", "m1", "anna").status());
  JobLease lease = MustClaim();
  STAMINA_ASSERT_OK(r_->jobs()
                        .Heartbeat(lease.lease_id,
                                   {.phase = JobPhase::kCommitting}, kTtl)
                        .status());
  EXPECT_THAT(r_->jobs().Cancel("t1", "m1", lease.job.id),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("committing")));
}

TEST_F(JobStoreTest, CancelQueuedAndTerminal) {
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord job, Train("t1", "m1", "anna"));
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord cancelled,
                               r_->jobs().Cancel("t1", "m1", job.id));
  EXPECT_EQ(cancelled.state, JobState::kCancelled);
  EXPECT_EQ(r_->models().GetConcept("t1", "m1", "anna")->state,
            ConceptState::kDraft);
  EXPECT_THAT(r_->jobs().Cancel("t1", "m1", job.id),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("CANCELLED")));
  EXPECT_THAT(r_->jobs().Claim("w1", kTtl), IsOkAndHolds(::testing::Eq(std::nullopt)));
  EXPECT_THAT(r_->jobs().Cancel("t1", "m1", "nope"),
              StatusCodeIs(absl::StatusCode::kNotFound));
}

TEST_F(JobStoreTest, FailedJobBlocksTheModelUntilRetriedOrCancelled) {
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord a, Train("t1", "m1", "a"));
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord b, Train("t1", "m1", "b"));
  JobLease lease = MustClaim();
  EXPECT_THAT(r_->jobs().Fail(lease.lease_id,
                              {.code = 3, .message = "bad images"}, false),
              IsOkAndHolds(JobState::kFailed));
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord failed, r_->jobs().Get("t1", "m1", a.id));
  EXPECT_EQ(failed.error.code, 3);
  EXPECT_EQ(failed.error.message, "bad images");
  EXPECT_EQ(failed.end_time, r_->clock().Now());  // FAILED ends the attempt
  EXPECT_THAT(r_->jobs().Claim("w1", kTtl), IsOkAndHolds(::testing::Eq(std::nullopt)));
  // Visible: the model names its failed job, the held job names what holds it.
  EXPECT_THAT(r_->models().GetModel("t1", "m1"),
              IsOkAndHolds(::testing::Field(&ModelRecord::failed_job_id, a.id)));
  EXPECT_THAT(r_->jobs().Get("t1", "m1", b.id),
              IsOkAndHolds(::testing::Field(&JobRecord::blocked_by_job_id, a.id)));

  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord retried,
                               r_->jobs().Retry("t1", "m1", a.id));
  EXPECT_EQ(retried.state, JobState::kQueued);
  EXPECT_EQ(retried.error.code, 0);
  JobLease again = MustClaim();
  EXPECT_EQ(again.job.id, a.id);  // keeps its place before b
  EXPECT_EQ(again.job.attempt, 2);
  STAMINA_ASSERT_OK(r_->jobs().Fail(again.lease_id, {.code = 13}, false).status());
  STAMINA_ASSERT_OK(r_->jobs().Cancel("t1", "m1", a.id).status());
  EXPECT_THAT(r_->models().GetModel("t1", "m1"),
              IsOkAndHolds(::testing::Field(&ModelRecord::failed_job_id, "")));
  EXPECT_THAT(r_->jobs().Get("t1", "m1", b.id),
              IsOkAndHolds(::testing::Field(&JobRecord::blocked_by_job_id, "")));
  EXPECT_EQ(MustClaim().job.id, b.id);
  EXPECT_THAT(r_->jobs().Retry("t1", "m1", b.id),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("only FAILED")));
}

TEST_F(JobStoreTest, RetryableFailureRequeuesWhileAttemptsLast) {
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord job, Train("t1", "m1", "anna"));
  JobLease first = MustClaim();
  EXPECT_THAT(r_->jobs().Fail(first.lease_id, {.code = 14, .retryable = true},
                              false),
              IsOkAndHolds(JobState::kQueued));
  JobLease second = MustClaim();
  EXPECT_EQ(second.job.attempt, 2);
  // max_attempts = 2: the next retryable failure is final.
  EXPECT_THAT(r_->jobs().Fail(second.lease_id, {.code = 14, .retryable = true},
                              false),
              IsOkAndHolds(JobState::kFailed));
}

TEST_F(JobStoreTest, ExpiredLeaseRequeuesAndTheOldHolderIsAborted) {
  STAMINA_ASSERT_OK(Train("t1", "m1", "anna").status());
  JobLease old = MustClaim("w1");
  r_->clock().Advance(kTtl);  // expiry is exclusive: now == expiry is expired
  EXPECT_THAT(r_->jobs().Heartbeat(old.lease_id, {}, kTtl),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("expired")));
  EXPECT_THAT(r_->jobs().GetLeased(old.lease_id),
              StatusCodeIs(absl::StatusCode::kAborted));
  JobLease fresh = MustClaim("w2");
  EXPECT_EQ(fresh.job.id, old.job.id);
  EXPECT_EQ(fresh.job.attempt, 2);
  EXPECT_EQ(fresh.job.lease_owner, "w2");
  // The lost worker's late result is refused; the new one commits.
  EXPECT_THAT(Finish(old), StatusCodeIs(absl::StatusCode::kAborted));
  EXPECT_THAT(r_->jobs().Fail(old.lease_id, {}, false),
              StatusCodeIs(absl::StatusCode::kAborted));
  STAMINA_ASSERT_OK(Finish(fresh).status());
  EXPECT_EQ(r_->models().GetModel("t1", "m1")->version_count, 1);
}

TEST_F(JobStoreTest, LeaseLostTooOftenFailsTheJob) {
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord job, Train("t1", "m1", "anna"));
  MustClaim();
  r_->clock().Advance(kTtl + absl::Seconds(1));
  MustClaim();
  r_->clock().Advance(kTtl + absl::Seconds(1));
  EXPECT_THAT(r_->jobs().RequeueExpiredLeases(), IsOkAndHolds(1));
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord failed,
                               r_->jobs().Get("t1", "m1", job.id));
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_TRUE(failed.error.retryable);
  EXPECT_THAT(failed.error.message, HasSubstr("lease expired"));
}

TEST_F(JobStoreTest, ListPagesNewestFirstAndFilters) {
  std::vector<std::string> ids;
  for (const char* c : {"a", "b", "c", "d", "e"}) {
    STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord job, Train("t1", "m1", c));
    ids.push_back(job.id);
  }
  STAMINA_ASSERT_OK(Train("t1", "m2", "x").status());
  STAMINA_ASSERT_OK_AND_ASSIGN(
      JobPage first,
      r_->jobs().List({.tenant_id = "t1", .model_id = "m1", .page_size = 3}));
  ASSERT_EQ(first.jobs.size(), 3u);
  EXPECT_EQ(first.jobs[0].id, ids[4]);
  EXPECT_FALSE(first.next_page_token.empty());
  STAMINA_ASSERT_OK_AND_ASSIGN(
      JobPage second,
      r_->jobs().List({.tenant_id = "t1", .model_id = "m1", .page_size = 3,
                       .page_token = first.next_page_token}));
  ASSERT_EQ(second.jobs.size(), 2u);
  EXPECT_EQ(second.jobs[1].id, ids[0]);
  EXPECT_TRUE(second.next_page_token.empty());

  EXPECT_EQ(r_->jobs().List({.tenant_id = "t1"})->jobs.size(), 6u);
  MustClaim();
  EXPECT_EQ(r_->jobs()
                .List({.tenant_id = "t1", .states = {JobState::kRunning}})
                ->jobs.size(),
            1u);
  EXPECT_THAT(r_->jobs().List({.tenant_id = "t1", .page_token = "x"}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r_->jobs().List({.tenant_id = "t1", .page_size = -1}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r_->jobs().List({.tenant_id = "t2", .model_id = "m1"}),
              StatusCodeIs(absl::StatusCode::kNotFound));

  STAMINA_ASSERT_OK_AND_ASSIGN(JobCounts counts, r_->jobs().Count());
  EXPECT_EQ(counts.queued, 5);
  EXPECT_EQ(counts.running, 1);
}

}  // namespace
}  // namespace stamina::storage
