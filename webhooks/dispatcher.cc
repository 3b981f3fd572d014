#include "webhooks/dispatcher.h"

#include <algorithm>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "webhooks/signature.h"

namespace stamina::webhooks {

absl::StatusOr<std::unique_ptr<WebhookDispatcher>> WebhookDispatcher::Create(Options options) {
  if (options.outbox == nullptr || options.sender == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError("outbox, sender and clock are required");
  }
  if (options.max_attempts < 1 || options.batch < 1 ||
      options.initial_backoff <= absl::ZeroDuration() ||
      options.max_backoff < options.initial_backoff || options.idle_poll <= absl::ZeroDuration() ||
      options.retention <= absl::ZeroDuration() || options.prune_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "max_attempts and batch must be >= 1; backoffs, idle_poll, retention and "
        "prune_interval positive");
  }
  auto dispatcher = std::unique_ptr<WebhookDispatcher>(new WebhookDispatcher(std::move(options)));
  if (dispatcher->options_.start_thread) {
    dispatcher->thread_ = std::thread([d = dispatcher.get()] { d->Run(); });
  }
  return dispatcher;
}

WebhookDispatcher::~WebhookDispatcher() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

WebhookDispatcher::Counts WebhookDispatcher::counts() const {
  absl::MutexLock lock(&mu_);
  return counts_;
}

absl::Duration WebhookDispatcher::Backoff(int failed_attempts) {
  absl::Duration ceiling = options_.initial_backoff;
  for (int i = 1; i < failed_attempts && ceiling < options_.max_backoff; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, options_.max_backoff);
  // Jitter in [1/2, 1] of the ceiling: receivers coming back are not hit by
  // every sender at once.
  thread_local std::mt19937_64 random{std::random_device{}()};
  return ceiling * std::uniform_real_distribution<double>(0.5, 1.0)(random);
}

absl::StatusOr<int> WebhookDispatcher::DeliverDue() {
  const absl::Time now = options_.clock->Now();
  absl::StatusOr<std::vector<storage::OutboxEvent>> due =
      options_.outbox->Due(now, options_.batch);
  if (!due.ok()) return due.status();
  int delivered = 0;
  for (const storage::OutboxEvent& event : *due) {
    if (stop_.HasBeenNotified()) break;
    absl::StatusOr<storage::TenantSecrets> secrets =
        options_.outbox->TenantSecret(event.tenant_id, NewWebhookSecret());
    const int64_t timestamp = absl::ToUnixSeconds(options_.clock->Now());
    absl::StatusOr<std::string> signature =
        secrets.ok() ? SignWebhook(secrets->current, event.id, timestamp, event.body)
                     : secrets.status();
    if (signature.ok() && !secrets->previous.empty()) {
      // Right after a rotation: both keys sign, so receivers still holding
      // the old one keep verifying while they switch.
      absl::StatusOr<std::string> old =
          SignWebhook(secrets->previous, event.id, timestamp, event.body);
      if (old.ok()) signature = absl::StrCat(*signature, " ", *old);
    }
    if (absl::IsNotFound(signature.status()) || absl::IsInvalidArgument(signature.status())) {
      // The tenant is gone, or its secret unusable: nothing can be sent.
      if (absl::Status gone = options_.outbox->Abandon(event.pk, signature.status().ToString());
          !gone.ok()) {
        return gone;
      }
      absl::MutexLock lock(&mu_);
      ++counts_.abandoned;
      continue;
    }
    if (!signature.ok()) return signature.status();
    absl::StatusOr<int> answer =
        options_.sender->Post({.url = event.url,
                               .headers = {{"webhook-id", event.id},
                                           {"webhook-timestamp", absl::StrCat(timestamp)},
                                           {"webhook-signature", *signature}},
                               .body = event.body});
    const absl::Time after = options_.clock->Now();
    if (answer.ok() && *answer >= 200 && *answer < 300) {
      if (absl::Status marked = options_.outbox->MarkDelivered(event.pk, after); !marked.ok()) {
        return marked;
      }
      ++delivered;
      absl::MutexLock lock(&mu_);
      ++counts_.delivered;
      continue;
    }
    const std::string error =
        answer.ok() ? absl::StrCat("HTTP ", *answer) : std::string(answer.status().message());
    const int failed = event.attempts + 1;
    // 410 Gone, or a target the policy refuses or cannot parse: retrying
    // would not help.
    const bool gone = (answer.ok() && *answer == 410) ||
                      absl::IsPermissionDenied(answer.status()) ||
                      absl::IsInvalidArgument(answer.status());
    absl::Status recorded;
    if (gone || failed >= options_.max_attempts) {
      recorded = options_.outbox->Abandon(event.pk, error);
      if (options_.log) {
        options_.log(absl::StrCat("webhook ", event.id, " to ", event.url, " abandoned after ",
                                  failed, " attempts: ", error));
      }
      absl::MutexLock lock(&mu_);
      ++counts_.abandoned;
    } else {
      recorded = options_.outbox->Reschedule(event.pk, after + Backoff(failed), error);
      absl::MutexLock lock(&mu_);
      ++counts_.failed_attempts;
    }
    if (!recorded.ok()) return recorded;
  }
  return delivered;
}

void WebhookDispatcher::Run() {
  uint64_t seen = options_.changes != nullptr ? options_.changes->version() : 0;
  absl::Time next_prune = options_.clock->Now();
  while (!stop_.HasBeenNotified()) {
    if (options_.clock->Now() >= next_prune) {
      absl::StatusOr<int64_t> pruned =
          options_.outbox->Prune(options_.clock->Now() - options_.retention);
      if (!pruned.ok() && options_.log) {
        options_.log(absl::StrCat("webhooks: pruning: ", pruned.status().ToString()));
      }
      next_prune = options_.clock->Now() + options_.prune_interval;
    }
    absl::StatusOr<int> delivered = DeliverDue();
    if (!delivered.ok() && options_.log) {
      options_.log(absl::StrCat("webhooks: ", delivered.status().ToString()));
    }
    // Sleep until a job changes, the next retry is due, or idle_poll passes.
    absl::Duration wait = options_.idle_poll;
    if (absl::StatusOr<std::optional<absl::Time>> next = options_.outbox->NextDue();
        delivered.ok() && next.ok() && next->has_value()) {
      wait = std::clamp(**next - options_.clock->Now(), absl::ZeroDuration(), wait);
    }
    if (delivered.ok() && *delivered == options_.batch) wait = absl::ZeroDuration();
    if (wait <= absl::ZeroDuration()) continue;
    if (options_.changes != nullptr) {
      // Short slices, so that Stop is noticed promptly.
      const absl::Time until = absl::Now() + wait;
      while (!stop_.HasBeenNotified() && absl::Now() < until) {
        const uint64_t now_seen = options_.changes->WaitForChange(
            seen, std::min(until - absl::Now(), absl::Milliseconds(200)));
        if (now_seen != seen) {
          seen = now_seen;
          break;
        }
      }
    } else {
      stop_.WaitForNotificationWithTimeout(wait);
    }
  }
}

}  // namespace stamina::webhooks
