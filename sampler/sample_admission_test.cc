#include "sampler/sample_admission.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::sampler {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A request admitted on its own thread: it records when it is queued and
// when it got its grant, and holds the grant until released.
class Request {
 public:
  Request(SampleAdmission& admission, std::string tenant, int64_t bytes,
          std::vector<std::string>* order, absl::Mutex* order_mu)
      : thread_([this, &admission, tenant, bytes, order, order_mu] {
          auto grant = admission.Admit(
              tenant, bytes, [this] { return cancel_.load(); },
              [this](int) {
                if (!queued_.HasBeenNotified()) queued_.Notify();
              });
          result_ = grant.status();
          if (grant.ok()) {
            {
              absl::MutexLock lock(order_mu);
              order->push_back(tenant + std::to_string(bytes));
            }
            granted_.Notify();
            release_.WaitForNotification();
          } else {
            if (!queued_.HasBeenNotified()) queued_.Notify();
            granted_.Notify();
          }
        }) {}
  ~Request() {
    if (!release_.HasBeenNotified()) release_.Notify();
    thread_.join();
  }
  void WaitQueued() { queued_.WaitForNotification(); }
  void WaitGranted() { granted_.WaitForNotification(); }
  bool granted() { return granted_.HasBeenNotified(); }
  void Release() { release_.Notify(); }
  void Cancel() { cancel_ = true; }
  absl::Status result() {
    granted_.WaitForNotification();
    return result_;
  }

 private:
  std::atomic<bool> cancel_{false};
  absl::Notification queued_, granted_, release_;
  absl::Status result_;
  std::thread thread_;
};

class SampleAdmissionTest : public ::testing::Test {
 protected:
  std::unique_ptr<SampleAdmission> Make(SampleAdmission::Options options) {
    auto admission = SampleAdmission::Create(options);
    EXPECT_THAT(admission, IsOk());
    return std::move(*admission);
  }
  std::unique_ptr<Request> Start(SampleAdmission& admission, const std::string& tenant,
                                 int64_t bytes) {
    return std::make_unique<Request>(admission, tenant, bytes, &order_, &order_mu_);
  }
  std::vector<std::string> Order() {
    absl::MutexLock lock(&order_mu_);
    return order_;
  }
  absl::Mutex order_mu_;
  std::vector<std::string> order_;
};

TEST_F(SampleAdmissionTest, RejectsBadOptions) {
  EXPECT_THAT(SampleAdmission::Create({.slots = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("slots")));
  EXPECT_THAT(SampleAdmission::Create({.memory_budget_bytes = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("memory_budget")));
}

TEST_F(SampleAdmissionTest, SlotsBoundWhatRunsAndFreedSlotsGoToWaiters) {
  auto admission = Make({.slots = 1, .memory_budget_bytes = 100});
  auto first = Start(*admission, "a", 10);
  first->WaitGranted();
  auto second = Start(*admission, "a", 10);
  second->WaitQueued();
  EXPECT_FALSE(second->granted());
  EXPECT_EQ(admission->stats().running, 1);
  EXPECT_EQ(admission->stats().waiting, 1);

  first->Release();
  second->WaitGranted();
  EXPECT_THAT(second->result(), IsOk());
  second->Release();
  first.reset();
  second.reset();
  EXPECT_EQ(admission->stats().running, 0);
  EXPECT_EQ(admission->stats().bytes_in_use, 0);
  EXPECT_EQ(admission->stats().admitted, 2);
}

// Tenant a queues three requests, then b one: b runs second, not fourth.
TEST_F(SampleAdmissionTest, TenantsAreServedRoundRobin) {
  auto admission = Make({.slots = 1, .memory_budget_bytes = 100});
  auto holder = Start(*admission, "x", 1);
  holder->WaitGranted();
  std::vector<std::unique_ptr<Request>> queued;
  for (int bytes : {1, 2, 3}) {
    queued.push_back(Start(*admission, "a", bytes));
    queued.back()->WaitQueued();
  }
  queued.push_back(Start(*admission, "b", 1));
  queued.back()->WaitQueued();

  holder->Release();
  for (int i : {0, 3, 1, 2}) {
    queued[i]->WaitGranted();
    queued[i]->Release();
  }
  EXPECT_THAT(Order(), ElementsAre("x1", "a1", "b1", "a2", "a3"));
}

TEST_F(SampleAdmissionTest, FullQueueIsBusyWithARetryHintAndRecovers) {
  auto admission = Make(
      {.slots = 1, .memory_budget_bytes = 100, .max_waiting = 2, .max_waiting_per_tenant = 1});
  auto holder = Start(*admission, "a", 1);
  holder->WaitGranted();
  auto waiting = Start(*admission, "a", 1);
  waiting->WaitQueued();

  auto refused = Start(*admission, "a", 1);
  EXPECT_THAT(refused->result(),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("sampler busy"), HasSubstr("retry in about"))));
  auto other_tenant = Start(*admission, "b", 1);  // b has its own share
  other_tenant->WaitQueued();
  auto over_total = Start(*admission, "c", 1);
  EXPECT_THAT(over_total->result(), StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("busy")));
  EXPECT_EQ(admission->stats().refused_busy, 2);

  holder->Release();
  waiting->WaitGranted();
  waiting->Release();
  other_tenant->WaitGranted();
  other_tenant->Release();
  auto later = Start(*admission, "a", 1);
  EXPECT_THAT(later->result(), IsOk());
}

TEST_F(SampleAdmissionTest, MemoryBoundsWhatRunsTogether) {
  auto admission = Make({.slots = 4, .memory_budget_bytes = 100});
  auto big = Start(*admission, "a", 60);
  big->WaitGranted();
  auto small = Start(*admission, "b", 30);
  small->WaitGranted();  // 90 of 100: fits beside it
  auto too_much = Start(*admission, "c", 50);
  too_much->WaitQueued();
  EXPECT_FALSE(too_much->granted());

  auto never = Start(*admission, "d", 101);
  EXPECT_THAT(never->result(), StatusIs(absl::StatusCode::kResourceExhausted,
                                        HasSubstr("budget is 1 MiB")));
  big->Release();
  too_much->WaitGranted();
  EXPECT_THAT(too_much->result(), IsOk());
}

// A large request at the head is not overtaken by smaller ones behind it.
TEST_F(SampleAdmissionTest, SmallRequestsDoNotStarveALargeOne) {
  auto admission = Make({.slots = 4, .memory_budget_bytes = 100});
  auto running = Start(*admission, "x", 60);
  running->WaitGranted();
  auto large = Start(*admission, "a", 80);
  large->WaitQueued();
  auto small = Start(*admission, "b", 10);
  small->WaitQueued();
  EXPECT_FALSE(small->granted());

  running->Release();
  large->WaitGranted();
  small->WaitGranted();  // 80 + 10 fit together (granted in one pass)
  EXPECT_THAT(large->result(), IsOk());
  EXPECT_THAT(small->result(), IsOk());
  EXPECT_EQ(admission->stats().bytes_in_use, 90);
}

TEST_F(SampleAdmissionTest, ACancelledWaiterLeavesTheQueue) {
  auto admission = Make({.slots = 1, .memory_budget_bytes = 100,
                         .cancel_poll = absl::Milliseconds(1)});
  auto holder = Start(*admission, "a", 1);
  holder->WaitGranted();
  auto gone = Start(*admission, "a", 1);
  gone->WaitQueued();
  auto behind = Start(*admission, "b", 1);
  behind->WaitQueued();

  gone->Cancel();
  EXPECT_THAT(gone->result(), StatusIs(absl::StatusCode::kCancelled, HasSubstr("went away")));
  EXPECT_EQ(admission->stats().waiting, 1);
  EXPECT_EQ(admission->stats().cancelled_waiting, 1);
  holder->Release();
  behind->WaitGranted();
  EXPECT_THAT(Order(), ElementsAre("a1", "b1"));
}

}  // namespace
}  // namespace stamina::sampler
