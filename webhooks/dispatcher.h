// File: webhooks/dispatcher.h
//
// WebhookDispatcher: delivers the outbox's due events (storage/
// webhook_outbox.h), one at a time, oldest first: signs each with its
// tenant's secret (created on first use), POSTs it, and marks it delivered
// on a 2xx answer; abandons it on 410 Gone, on a target the URL policy
// refuses, or after max_attempts; else
// retries it after an exponential back-off with jitter (initial_backoff,
// doubling, capped at max_backoff). Its thread wakes when a job changes
// (the JobChangeFeed, so an event leaves at once), when a retry falls due,
// and at least every idle_poll. An event whose outcome was not recorded
// (a crash mid-POST) is sent again: receivers deduplicate by webhook-id.
//
// Thread-safe. The outbox, sender, clock and feed are not owned.
#ifndef STAMINA_WEBHOOKS_DISPATCHER_H_
#define STAMINA_WEBHOOKS_DISPATCHER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "storage/job_change_feed.h"
#include "storage/webhook_outbox.h"
#include "webhooks/sender.h"

namespace stamina::webhooks {

class WebhookDispatcher {
 public:
  struct Options {
    storage::WebhookOutbox* outbox = nullptr;  // required
    WebhookSender* sender = nullptr;           // required
    Clock* clock = Clock::Real();
    storage::JobChangeFeed* changes = nullptr;  // optional: wake on job changes
    absl::Duration initial_backoff = absl::Seconds(5);
    absl::Duration max_backoff = absl::Hours(1);
    // Attempts in all; at the defaults about 19 hours of retries.
    int max_attempts = 24;
    int batch = 32;
    absl::Duration idle_poll = absl::Seconds(5);
    // Delivered and abandoned events are deleted after `retention`, checked
    // every `prune_interval`.
    absl::Duration retention = absl::Hours(24 * 7);
    absl::Duration prune_interval = absl::Hours(1);
    // false: no thread; tests call DeliverDue().
    bool start_thread = true;
    std::function<void(const std::string&)> log;
  };

  struct Counts {
    int64_t delivered = 0;
    int64_t failed_attempts = 0;
    int64_t abandoned = 0;
  };

  static absl::StatusOr<std::unique_ptr<WebhookDispatcher>> Create(Options options);
  // Stops the thread (after the POST in flight, if any).
  ~WebhookDispatcher();

  // Sends every event due now once. Returns how many were delivered.
  absl::StatusOr<int> DeliverDue();

  Counts counts() const;

 private:
  explicit WebhookDispatcher(Options options) : options_(std::move(options)) {}
  void Run();
  absl::Duration Backoff(int failed_attempts);

  const Options options_;
  mutable absl::Mutex mu_;
  Counts counts_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace stamina::webhooks

#endif  // STAMINA_WEBHOOKS_DISPATCHER_H_
