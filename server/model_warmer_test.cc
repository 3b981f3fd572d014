#include "server/model_warmer.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Records what it warms; the first warm-up waits for `gate` when asked to.
class FakeRouter final : public rpc::SampleRouter {
 public:
  absl::Status Sample(const rpc::ModelRecipe&, const rpc::SampleParams&,
                      rpc::SampleSink&) override {
    return absl::UnimplementedError("not used");
  }
  absl::Status Warm(const rpc::ModelRecipe& recipe, const std::function<bool()>&) override {
    if (hold_first_ && !started_.HasBeenNotified()) {
      started_.Notify();
      gate_.WaitForNotification();
    }
    absl::MutexLock lock(&mu_);
    warmed_.push_back(absl::StrCat(recipe.model_id, "/", *recipe.version));
    return recipe.model_id == "broken" ? absl::ResourceExhaustedError("does not fit")
                                       : absl::OkStatus();
  }
  std::vector<std::string> warmed() {
    absl::MutexLock lock(&mu_);
    return warmed_;
  }

  bool hold_first_ = false;
  absl::Notification started_;
  absl::Notification gate_;

 private:
  absl::Mutex mu_;
  std::vector<std::string> warmed_;
};

class ModelWarmerTest : public ::testing::Test {
 protected:
  void Start() {
    auto warmer = ModelWarmer::Create(
        {.router = &router_,
         .recipe_of =
             [](const ModelWarmer::Version& v) -> absl::StatusOr<rpc::ModelRecipe> {
           if (v.model_id == "gone") return absl::NotFoundError("model gone");
           return rpc::ModelRecipe{.tenant_id = v.tenant_id, .model_id = v.model_id,
                              .version = v.version};
         },
         .log =
             [this](const std::string& line) {
               absl::MutexLock lock(&mu_);
               log_.push_back(line);
             }});
    ASSERT_THAT(warmer.status(), IsOk());
    warmer_ = std::move(*warmer);
  }
  std::vector<std::string> log() {
    absl::MutexLock lock(&mu_);
    return log_;
  }

  FakeRouter router_;
  absl::Mutex mu_;
  std::vector<std::string> log_;
  std::unique_ptr<ModelWarmer> warmer_;
};

TEST_F(ModelWarmerTest, WarmsEachVersionInTheBackgroundAndLogsFailures) {
  Start();
  warmer_->Enqueue({.tenant_id = "t", .model_id = "pets", .version = 1});
  warmer_->Enqueue({.tenant_id = "t", .model_id = "gone", .version = 1});
  warmer_->Enqueue({.tenant_id = "t", .model_id = "broken", .version = 2});
  warmer_->Enqueue({.tenant_id = "t", .model_id = "cats", .version = 3});
  ASSERT_TRUE(warmer_->AwaitFinished(4, absl::Seconds(30)));
  EXPECT_THAT(router_.warmed(), ElementsAre("pets/1", "broken/2", "cats/3"));
  const std::vector<std::string> lines = log();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[0], HasSubstr("warmed models/pets/versions/1 of tenant t"));
  EXPECT_THAT(lines[1], HasSubstr("NOT_FOUND: model gone"));
  EXPECT_THAT(lines[2], HasSubstr("RESOURCE_EXHAUSTED: does not fit"));
  EXPECT_THAT(lines[3], HasSubstr("warmed models/cats/versions/3"));
}

TEST_F(ModelWarmerTest, ANewerVersionReplacesAQueuedOlderOne) {
  router_.hold_first_ = true;
  Start();
  warmer_->Enqueue({.tenant_id = "t", .model_id = "pets", .version = 1});
  router_.started_.WaitForNotification();  // pets/1 is being warmed
  warmer_->Enqueue({.tenant_id = "t", .model_id = "cats", .version = 1});
  warmer_->Enqueue({.tenant_id = "u", .model_id = "cats", .version = 1});  // another tenant
  warmer_->Enqueue({.tenant_id = "t", .model_id = "cats", .version = 2});
  router_.gate_.Notify();
  ASSERT_TRUE(warmer_->AwaitFinished(3, absl::Seconds(30)));
  EXPECT_THAT(router_.warmed(), ElementsAre("pets/1", "cats/1", "cats/2"));
  EXPECT_EQ(warmer_->finished(), 3);
}

TEST_F(ModelWarmerTest, StopWaitsForTheRunningWarmUpAndIgnoresLaterVersions) {
  Start();
  warmer_->Enqueue({.tenant_id = "t", .model_id = "pets", .version = 1});
  ASSERT_TRUE(warmer_->AwaitFinished(1, absl::Seconds(30)));
  warmer_->Stop();
  warmer_->Stop();  // idempotent
  warmer_->Enqueue({.tenant_id = "t", .model_id = "pets", .version = 2});
  EXPECT_FALSE(warmer_->AwaitFinished(2, absl::ZeroDuration()));
  EXPECT_THAT(router_.warmed(), ElementsAre("pets/1"));
}

TEST(ModelWarmerCreateTest, NeedsARouterAndARecipeSource) {
  EXPECT_THAT(ModelWarmer::Create({}), StatusCodeIs(absl::StatusCode::kInvalidArgument));
  FakeRouter router;
  EXPECT_THAT(ModelWarmer::Create({.router = &router}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("recipe_of")));
}

}  // namespace
}  // namespace stamina::server
