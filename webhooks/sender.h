// File: webhooks/sender.h
//
// WebhookSender: one HTTP POST of a signed event. The dispatcher decides
// what an answer means (2xx delivered, 410 abandoned, anything else retried);
// the sender only reports the HTTP status or why there was none.
// CurlWebhookSender (curl_sender.h) is the real one; tests use fakes.
//
// Implementations are thread-compatible (the dispatcher calls from one
// thread).
#ifndef STAMINA_WEBHOOKS_SENDER_H_
#define STAMINA_WEBHOOKS_SENDER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace stamina::webhooks {

struct WebhookRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // JSON
};

class WebhookSender {
 public:
  virtual ~WebhookSender() = default;
  // The HTTP status the receiver answered; an error when there was no
  // answer (refused target, unresolvable name, connection failure, time-out).
  virtual absl::StatusOr<int> Post(const WebhookRequest& request) = 0;
};

}  // namespace stamina::webhooks

#endif  // STAMINA_WEBHOOKS_SENDER_H_
