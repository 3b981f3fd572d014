#include "storage/sqlite_webhook_outbox.h"

#include <memory>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "storage/sha256.h"
#include "storage/testing/test_registry.h"

namespace stamina::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr absl::Duration kTtl = absl::Minutes(1);

class WebhookOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    STAMINA_ASSERT_OK_AND_ASSIGN(r_, TestRegistry::Create({.max_attempts = 1}));
    STAMINA_ASSERT_OK_AND_ASSIGN(
        outbox_, SqliteWebhookOutbox::Create({.db = &r_->db(), .clock = &r_->clock()}));
  }

  JobRecord Train(const std::string& concept, const std::string& url) {
    EXPECT_THAT(r_->AddTrainableConcept("t1", "m1", concept), IsOk());
    auto job = r_->jobs().Create(
        {.tenant_id = "t1", .model_id = "m1", .concept_id = concept, .webhook_url = url});
    EXPECT_THAT(job, IsOk());
    return job.ok() ? *job : JobRecord{};
  }

  // Every pending event, oldest first, each marked delivered in turn (a
  // job's later events are due only after its earlier ones).
  std::vector<OutboxEvent> Drain() {
    std::vector<OutboxEvent> all;
    for (;;) {
      auto due = outbox_->Due(r_->clock().Now(), 100);
      EXPECT_THAT(due, IsOk());
      if (!due.ok() || due->empty()) return all;
      for (const OutboxEvent& event : *due) {
        EXPECT_THAT(outbox_->MarkDelivered(event.pk, r_->clock().Now()), IsOk());
        all.push_back(event);
      }
    }
  }

  std::vector<std::string> DueTypes() {
    auto due = outbox_->Due(r_->clock().Now(), 100);
    EXPECT_THAT(due, IsOk());
    std::vector<std::string> types;
    for (const OutboxEvent& event : *due) types.push_back(event.type);
    return types;
  }

  std::unique_ptr<TestRegistry> r_;
  std::unique_ptr<SqliteWebhookOutbox> outbox_;
};

TEST_F(WebhookOutboxTest, EveryStateChangeOfAJobWithAUrlIsAnEvent) {
  const JobRecord job = Train("anna", "https://hooks.example.com/stamina");
  Train("mill", "");  // no URL: no events
  EXPECT_THAT(DueTypes(), ElementsAre("job.queued"));
  Drain();

  STAMINA_ASSERT_OK_AND_ASSIGN(std::optional<JobLease> lease, r_->jobs().Claim("w1", kTtl));
  ASSERT_TRUE(lease.has_value());
  ASSERT_EQ(lease->job.id, job.id);
  STAMINA_ASSERT_OK(r_->jobs()
                        .Complete(lease->lease_id, {.adapter_digest = Sha256Hex("adapter"),
                                                    .adapter_size_bytes = 10})
                        .status());
  const std::vector<OutboxEvent> due = Drain();
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].type, "job.running");
  EXPECT_EQ(due[1].type, "job.succeeded");
  EXPECT_EQ(due[1].url, "https://hooks.example.com/stamina");
  EXPECT_EQ(due[1].tenant_id, "t1");
  EXPECT_EQ(due[1].id.substr(0, 4), "msg_");
  EXPECT_NE(due[0].id, due[1].id);
  const nlohmann::json body = nlohmann::json::parse(due[1].body);
  EXPECT_EQ(body["type"], "job.succeeded");
  EXPECT_EQ(body["data"]["job"], "models/m1/jobs/" + job.id);
  EXPECT_EQ(body["data"]["concept"], "models/m1/concepts/anna");
  EXPECT_EQ(body["data"]["state"], "JOB_STATE_SUCCEEDED");
  EXPECT_EQ(body["data"]["result_version"], "models/m1/versions/1");
  EXPECT_EQ(body["timestamp"].get<std::string>().back(), 'Z');
}

TEST_F(WebhookOutboxTest, FailuresAndCancelsCarryTheirState) {
  Train("anna", "http://receiver.example/hook");
  STAMINA_ASSERT_OK_AND_ASSIGN(std::optional<JobLease> lease, r_->jobs().Claim("w1", kTtl));
  STAMINA_ASSERT_OK(r_->jobs()
                        .Fail(lease->lease_id, {.code = 9, .message = "bad initializer"},
                              /*cancelled=*/false)
                        .status());
  const std::vector<OutboxEvent> due = Drain();
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[1].type, "job.running");
  const nlohmann::json failed = nlohmann::json::parse(due[2].body);
  EXPECT_EQ(failed["type"], "job.failed");
  EXPECT_EQ(failed["data"]["error"]["message"], "bad initializer");
  STAMINA_ASSERT_OK(r_->jobs().Cancel("t1", "m1", lease->job.id).status());
  EXPECT_THAT(DueTypes(), ElementsAre("job.cancelled"));
}

TEST_F(WebhookOutboxTest, DeliveredRescheduledAndAbandonedEventsLeaveTheDueList) {
  Train("anna", "http://receiver.example/hook");
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<OutboxEvent> due,
                               outbox_->Due(r_->clock().Now(), 10));
  ASSERT_EQ(due.size(), 1u);
  const absl::Time later = r_->clock().Now() + absl::Seconds(30);
  STAMINA_ASSERT_OK(outbox_->Reschedule(due[0].pk, later, "HTTP 503"));
  EXPECT_THAT(DueTypes(), IsEmpty());
  EXPECT_THAT(outbox_->NextDue(), IsOkAndHolds(std::optional<absl::Time>(later)));
  r_->clock().Advance(absl::Seconds(30));
  STAMINA_ASSERT_OK_AND_ASSIGN(due, outbox_->Due(r_->clock().Now(), 10));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].attempts, 1);
  STAMINA_ASSERT_OK(outbox_->MarkDelivered(due[0].pk, r_->clock().Now()));
  EXPECT_THAT(DueTypes(), IsEmpty());
  EXPECT_THAT(outbox_->NextDue(), IsOkAndHolds(std::nullopt));

  Train("mill", "http://receiver.example/hook");
  STAMINA_ASSERT_OK_AND_ASSIGN(due, outbox_->Due(r_->clock().Now(), 10));
  ASSERT_EQ(due.size(), 1u);
  STAMINA_ASSERT_OK(outbox_->Abandon(due[0].pk, "HTTP 410"));
  STAMINA_ASSERT_OK_AND_ASSIGN(OutboxCounts counts, outbox_->Count());
  EXPECT_EQ(counts.pending, 0);
  EXPECT_EQ(counts.delivered, 1);
  EXPECT_EQ(counts.abandoned, 1);

  // Pruning keeps pending events and recent ones.
  Train("rex", "http://receiver.example/hook");
  EXPECT_THAT(outbox_->Prune(r_->clock().Now() - absl::Hours(1)), IsOkAndHolds(0));
  r_->clock().Advance(absl::Hours(2));
  EXPECT_THAT(outbox_->Prune(r_->clock().Now() - absl::Hours(1)), IsOkAndHolds(2));
  STAMINA_ASSERT_OK_AND_ASSIGN(counts, outbox_->Count());
  EXPECT_EQ(counts.pending, 1);
  EXPECT_EQ(counts.delivered + counts.abandoned, 0);
}

TEST_F(WebhookOutboxTest, TenantSecretIsCreatedOnceAndRotatedWithOverlap) {
  STAMINA_ASSERT_OK(r_->AddTenant("t1"));
  auto current = [&](const std::string& candidate) {
    auto secrets = outbox_->TenantSecret("t1", candidate);
    EXPECT_THAT(secrets, IsOk());
    return secrets.ok() ? secrets->current + "|" + secrets->previous : "";
  };
  EXPECT_EQ(current("whsec_first"), "whsec_first|");
  EXPECT_EQ(current("whsec_other"), "whsec_first|");
  STAMINA_ASSERT_OK(
      outbox_->ReplaceTenantSecret("t1", "whsec_second", r_->clock().Now() + absl::Hours(1)));
  EXPECT_EQ(current("whsec_other"), "whsec_second|whsec_first");  // both sign for an hour
  r_->clock().Advance(absl::Hours(1));
  EXPECT_EQ(current("whsec_other"), "whsec_second|");
  EXPECT_THAT(outbox_->TenantSecret("nobody", "whsec_x"),
              StatusIs(absl::StatusCode::kNotFound, ::testing::HasSubstr("nobody")));
}

TEST_F(WebhookOutboxTest, AJobsEventsLeaveInOrder) {
  Train("anna", "http://receiver.example/hook");
  STAMINA_ASSERT_OK_AND_ASSIGN(std::optional<JobLease> lease, r_->jobs().Claim("w1", kTtl));
  Train("mill", "http://receiver.example/hook");
  // anna's job.running waits behind its job.queued; mill's job.queued does not.
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<OutboxEvent> due, outbox_->Due(r_->clock().Now(), 100));
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(due[0].body)["data"]["concept"], "models/m1/concepts/anna");
  EXPECT_EQ(due[0].type, "job.queued");
  EXPECT_EQ(nlohmann::json::parse(due[1].body)["data"]["concept"], "models/m1/concepts/mill");
  // The first failing pushes the second back with it.
  const absl::Time later = r_->clock().Now() + absl::Minutes(1);
  STAMINA_ASSERT_OK(outbox_->Reschedule(due[0].pk, later, "HTTP 503"));
  STAMINA_ASSERT_OK(outbox_->MarkDelivered(due[1].pk, r_->clock().Now()));
  EXPECT_THAT(DueTypes(), IsEmpty());
  EXPECT_THAT(outbox_->NextDue(), IsOkAndHolds(std::optional<absl::Time>(later)));
  r_->clock().Advance(absl::Minutes(1));
  STAMINA_ASSERT_OK_AND_ASSIGN(due, outbox_->Due(r_->clock().Now(), 100));
  ASSERT_EQ(due.size(), 1u);
  STAMINA_ASSERT_OK(outbox_->MarkDelivered(due[0].pk, r_->clock().Now()));
  EXPECT_THAT(DueTypes(), ElementsAre("job.running"));
}

TEST_F(WebhookOutboxTest, ErasingAModelTellsTheReceiversOfItsOpenJobs) {
  Train("anna", "http://receiver.example/hook");
  STAMINA_ASSERT_OK(r_->models().DeleteModel("t1", "m1").status());
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<OutboxEvent> due, outbox_->Due(r_->clock().Now(), 100));
  ASSERT_EQ(due.size(), 1u);  // job.queued first; job.deleted waits behind it
  STAMINA_ASSERT_OK(outbox_->MarkDelivered(due[0].pk, r_->clock().Now()));
  EXPECT_THAT(DueTypes(), ElementsAre("job.deleted"));
}

}  // namespace
}  // namespace stamina::storage
