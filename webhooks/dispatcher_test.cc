#include "webhooks/dispatcher.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite_webhook_outbox.h"
#include "storage/testing/test_registry.h"
#include "webhooks/signature.h"

namespace stamina::webhooks {
namespace {


// Answers from a script (then 200), recording every request.
class ScriptedSender final : public WebhookSender {
 public:
  absl::StatusOr<int> Post(const WebhookRequest& request) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    if (script_.empty()) return 200;
    absl::StatusOr<int> answer = script_.front();
    script_.erase(script_.begin());
    return answer;
  }
  void Script(std::vector<absl::StatusOr<int>> answers) {
    absl::MutexLock lock(&mu_);
    script_ = std::move(answers);
  }
  std::vector<WebhookRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  // Waits (up to 30 s) until `n` requests arrived.
  bool AwaitRequests(size_t n) {
    absl::MutexLock lock(&mu_);
    awaited_ = n;
    return mu_.AwaitWithTimeout(absl::Condition(this, &ScriptedSender::Arrived),
                                absl::Seconds(30));
  }

 private:
  absl::Mutex mu_;
  std::vector<absl::StatusOr<int>> script_ ABSL_GUARDED_BY(mu_);
  std::vector<WebhookRequest> requests_ ABSL_GUARDED_BY(mu_);
  size_t awaited_ ABSL_GUARDED_BY(mu_) = 0;
  bool Arrived() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return requests_.size() >= awaited_; }
};

std::string Header(const WebhookRequest& request, const std::string& name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return "";
}

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    STAMINA_ASSERT_OK_AND_ASSIGN(r_, storage::TestRegistry::Create());
    STAMINA_ASSERT_OK_AND_ASSIGN(
        outbox_, storage::SqliteWebhookOutbox::Create({.db = &r_->db(), .clock = &r_->clock()}));
  }

  std::unique_ptr<WebhookDispatcher> Dispatcher(int max_attempts = 5) {
    auto dispatcher = WebhookDispatcher::Create({.outbox = outbox_.get(),
                                                 .sender = &sender_,
                                                 .clock = &r_->clock(),
                                                 .initial_backoff = absl::Seconds(10),
                                                 .max_backoff = absl::Seconds(60),
                                                 .max_attempts = max_attempts,
                                                 .start_thread = false});
    EXPECT_THAT(dispatcher, IsOk());
    return dispatcher.ok() ? std::move(*dispatcher) : nullptr;
  }

  void QueueJob(const std::string& concept) {
    ASSERT_THAT(r_->AddTrainableConcept("t1", "m1", concept), IsOk());
    ASSERT_THAT(r_->jobs().Create({.tenant_id = "t1",
                                   .model_id = "m1",
                                   .concept_id = concept,
                                   .webhook_url = "https://hooks.example.com/in"}),
                IsOk());
  }

  std::unique_ptr<storage::TestRegistry> r_;
  std::unique_ptr<storage::SqliteWebhookOutbox> outbox_;
  ScriptedSender sender_;
};

TEST_F(DispatcherTest, SignsWithTheTenantsSecretAndDeliversOnce) {
  QueueJob("anna");
  auto dispatcher = Dispatcher();
  EXPECT_THAT(dispatcher->DeliverDue(), IsOkAndHolds(1));
  EXPECT_THAT(dispatcher->DeliverDue(), IsOkAndHolds(0));  // delivered: not sent again
  ASSERT_EQ(sender_.requests().size(), 1u);
  const WebhookRequest request = sender_.requests()[0];
  EXPECT_EQ(request.url, "https://hooks.example.com/in");
  STAMINA_ASSERT_OK_AND_ASSIGN(storage::TenantSecrets secrets,
                               outbox_->TenantSecret("t1", "unused"));
  STAMINA_EXPECT_OK(VerifyWebhook(
      secrets.current, Header(request, "webhook-id"), Header(request, "webhook-timestamp"),
      Header(request, "webhook-signature"), request.body, r_->clock().Now()));
  EXPECT_EQ(dispatcher->counts().delivered, 1);
}

TEST_F(DispatcherTest, AfterARotationBothSecretsSign) {
  QueueJob("anna");
  STAMINA_ASSERT_OK_AND_ASSIGN(storage::TenantSecrets old,
                               outbox_->TenantSecret("t1", NewWebhookSecret()));
  const std::string fresh = NewWebhookSecret();
  STAMINA_ASSERT_OK(outbox_->ReplaceTenantSecret("t1", fresh, r_->clock().Now() + absl::Hours(24)));
  auto dispatcher = Dispatcher();
  EXPECT_THAT(dispatcher->DeliverDue(), IsOkAndHolds(1));
  const WebhookRequest request = sender_.requests().at(0);
  for (const std::string& secret : {old.current, fresh}) {
    STAMINA_EXPECT_OK(
        VerifyWebhook(secret, Header(request, "webhook-id"), Header(request, "webhook-timestamp"),
                      Header(request, "webhook-signature"), request.body, r_->clock().Now()));
  }
}

TEST_F(DispatcherTest, ADownReceiverGetsEveryEventWhenItComesBack) {
  QueueJob("anna");
  QueueJob("mill");
  auto dispatcher = Dispatcher();
  sender_.Script({absl::UnavailableError("connection refused"), 503});
  EXPECT_THAT(dispatcher->DeliverDue(), IsOkAndHolds(0));
  EXPECT_THAT(dispatcher->DeliverDue(), IsOkAndHolds(0));  // both wait for their back-off
  EXPECT_EQ(dispatcher->counts().failed_attempts, 2);
  r_->clock().Advance(absl::Seconds(10));  // the first back-off is 5-10 s
  EXPECT_THAT(dispatcher->DeliverDue(), IsOkAndHolds(2));
  const std::vector<WebhookRequest> sent = sender_.requests();
  ASSERT_EQ(sent.size(), 4u);
  // The retries (in back-off order) carry the same ids: receivers deduplicate.
  EXPECT_THAT((std::vector<std::string>{Header(sent[2], "webhook-id"),
                                        Header(sent[3], "webhook-id")}),
              ::testing::UnorderedElementsAre(Header(sent[0], "webhook-id"),
                                              Header(sent[1], "webhook-id")));
  STAMINA_ASSERT_OK_AND_ASSIGN(storage::OutboxCounts counts, outbox_->Count());
  EXPECT_EQ(counts.delivered, 2);
  EXPECT_EQ(counts.pending, 0);
}

TEST_F(DispatcherTest, GoneOrTooManyFailuresAbandonTheEvent) {
  QueueJob("anna");
  auto dispatcher = Dispatcher(/*max_attempts=*/2);
  sender_.Script({410});
  EXPECT_THAT(dispatcher->DeliverDue(), IsOkAndHolds(0));
  EXPECT_EQ(dispatcher->counts().abandoned, 1);

  QueueJob("mill");
  sender_.Script({500, 500});
  EXPECT_THAT(dispatcher->DeliverDue(), IsOkAndHolds(0));
  r_->clock().Advance(absl::Minutes(1));
  EXPECT_THAT(dispatcher->DeliverDue(), IsOkAndHolds(0));
  r_->clock().Advance(absl::Minutes(1));
  EXPECT_THAT(dispatcher->DeliverDue(), IsOkAndHolds(0));
  EXPECT_EQ(sender_.requests().size(), 3u);  // 410 once, then 500 twice: max_attempts

  QueueJob("rex");  // the refused target: abandoned at the first attempt
  sender_.Script({absl::PermissionDeniedError("resolves to 10.0.0.1")});
  EXPECT_THAT(dispatcher->DeliverDue(), IsOkAndHolds(0));
  EXPECT_EQ(sender_.requests().size(), 4u);
  STAMINA_ASSERT_OK_AND_ASSIGN(storage::OutboxCounts counts, outbox_->Count());
  EXPECT_EQ(counts.abandoned, 3);
  EXPECT_EQ(counts.pending, 0);
}

TEST_F(DispatcherTest, TheThreadSendsAnEventAsSoonAsTheJobChanges) {
  storage::JobChangeFeed feed;
  STAMINA_ASSERT_OK_AND_ASSIGN(auto dispatcher,
                               WebhookDispatcher::Create({.outbox = outbox_.get(),
                                                          .sender = &sender_,
                                                          .clock = &r_->clock(),
                                                          .changes = &feed,
                                                          .idle_poll = absl::Hours(1)}));
  QueueJob("anna");
  feed.Notify();
  ASSERT_TRUE(sender_.AwaitRequests(1));
  EXPECT_THAT(sender_.requests()[0].body, ::testing::HasSubstr("\"type\":\"job.queued\""));
}

}  // namespace
}  // namespace stamina::webhooks
