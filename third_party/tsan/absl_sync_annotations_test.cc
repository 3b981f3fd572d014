// Plain (non-atomic) data handed between threads through each absl primitive
// that absl_sync_annotations.cc wraps. Under --config=tsan, a wrapper that
// stops working makes TSan report a race here (halt_on_error=1 fails the
// test); without the wrappers every case below is reported. Without TSan it
// is an ordinary correctness test.

#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace {

TEST(AbslSyncAnnotationsTest, MutexLockAndReaderLock) {
  absl::Mutex mu;
  int counter = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        absl::MutexLock lock(&mu);
        ++counter;
      }
      absl::ReaderMutexLock lock(&mu);
      EXPECT_GT(counter, 0);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(counter, 4000);
}

TEST(AbslSyncAnnotationsTest, TryLockAndReleasableLock) {
  absl::Mutex mu;
  int value = 0;
  std::thread writer([&] {
    while (!mu.TryLock()) std::this_thread::yield();
    value = 1;
    mu.Unlock();
  });
  writer.join();
  std::thread reader([&] {
    absl::ReleasableMutexLock lock(&mu);
    EXPECT_EQ(value, 1);
    value = 2;
    lock.Release();
  });
  {
    absl::MutexLock lock(&mu);
    value = value == 0 ? 3 : value;
  }
  reader.join();
}

TEST(AbslSyncAnnotationsTest, AwaitAndLockWhen) {
  absl::Mutex mu;
  int value = 0;
  bool ready = false;
  std::thread producer([&] {
    absl::MutexLock lock(&mu);
    value = 42;
    ready = true;
  });
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(&ready));
    EXPECT_EQ(value, 42);
    value = 43;
  }
  producer.join();
  bool done = false;
  std::thread finisher([&] {
    absl::MutexLock lock(&mu);
    value = 44;
    done = true;
  });
  EXPECT_TRUE(mu.LockWhenWithTimeout(absl::Condition(&done), absl::Seconds(30)));
  EXPECT_EQ(value, 44);
  mu.Unlock();
  finisher.join();
}

TEST(AbslSyncAnnotationsTest, CondVarWait) {
  absl::Mutex mu;
  absl::CondVar cv;
  int value = 0;
  bool ready = false;
  std::thread producer([&] {
    absl::MutexLock lock(&mu);
    value = 7;
    ready = true;
    cv.Signal();
  });
  {
    absl::MutexLock lock(&mu);
    while (!ready) cv.Wait(&mu);
    EXPECT_EQ(value, 7);
  }
  producer.join();
}

TEST(AbslSyncAnnotationsTest, Notification) {
  int value = 0;
  absl::Notification waited;
  std::thread producer([&] {
    value = 1;
    waited.Notify();
  });
  waited.WaitForNotification();
  EXPECT_EQ(value, 1);
  producer.join();

  int polled_value = 0;
  absl::Notification polled;
  std::thread poller_producer([&] {
    polled_value = 2;
    polled.Notify();
  });
  while (!polled.HasBeenNotified()) std::this_thread::yield();
  EXPECT_EQ(polled_value, 2);
  poller_producer.join();
}

}  // namespace
