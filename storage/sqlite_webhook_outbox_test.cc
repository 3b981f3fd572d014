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

  STAMINA_ASSERT_OK_AND_ASSIGN(std::optional<JobLease> lease, r_->jobs().Claim("w1", kTtl));
  ASSERT_TRUE(lease.has_value());
  ASSERT_EQ(lease->job.id, job.id);
  STAMINA_ASSERT_OK(r_->jobs()
                        .Complete(lease->lease_id, {.adapter_digest = Sha256Hex("adapter"),
                                                    .adapter_size_bytes = 10})
                        .status());
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<OutboxEvent> due,
                               outbox_->Due(r_->clock().Now(), 100));
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[2].type, "job.succeeded");
  EXPECT_EQ(due[2].url, "https://hooks.example.com/stamina");
  EXPECT_EQ(due[2].tenant_id, "t1");
  EXPECT_EQ(due[2].id.substr(0, 4), "msg_");
  EXPECT_NE(due[0].id, due[2].id);
  const nlohmann::json body = nlohmann::json::parse(due[2].body);
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
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<OutboxEvent> due,
                               outbox_->Due(r_->clock().Now(), 100));
  ASSERT_EQ(due.size(), 3u);
  const nlohmann::json failed = nlohmann::json::parse(due[2].body);
  EXPECT_EQ(failed["type"], "job.failed");
  EXPECT_EQ(failed["data"]["error"]["message"], "bad initializer");
  STAMINA_ASSERT_OK(r_->jobs().Cancel("t1", "m1", lease->job.id).status());
  EXPECT_THAT(DueTypes(), ElementsAre("job.queued", "job.running", "job.failed", "job.cancelled"));
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

TEST_F(WebhookOutboxTest, TenantSecretIsCreatedOnceAndReplaced) {
  STAMINA_ASSERT_OK(r_->AddTenant("t1"));
  EXPECT_THAT(outbox_->TenantSecret("t1", "whsec_first"), IsOkAndHolds("whsec_first"));
  EXPECT_THAT(outbox_->TenantSecret("t1", "whsec_other"), IsOkAndHolds("whsec_first"));
  STAMINA_ASSERT_OK(outbox_->ReplaceTenantSecret("t1", "whsec_second"));
  EXPECT_THAT(outbox_->TenantSecret("t1", "whsec_other"), IsOkAndHolds("whsec_second"));
  EXPECT_THAT(outbox_->TenantSecret("nobody", "whsec_x"), StatusIs(absl::StatusCode::kNotFound, ::testing::HasSubstr("nobody")));
}

}  // namespace
}  // namespace stamina::storage
