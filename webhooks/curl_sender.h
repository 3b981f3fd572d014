// File: webhooks/curl_sender.h
//
// CurlWebhookSender: POSTs with libcurl after the URL policy (url_policy.h):
// the host is resolved here, every address checked, and curl pinned to the
// checked addresses (CURLOPT_RESOLVE), so DNS cannot be asked twice, and
// every socket is checked again against the address it connects to; no
// proxy from the environment, no redirects, only http and https; the
// answer's body is read and dropped. Thread-compatible: one handle per call.
#ifndef STAMINA_WEBHOOKS_CURL_SENDER_H_
#define STAMINA_WEBHOOKS_CURL_SENDER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "webhooks/sender.h"

namespace stamina::webhooks {

class CurlWebhookSender final : public WebhookSender {
 public:
  struct Options {
    // Allow loopback, link-local and private targets (tests, private
    // deployments); --webhook_allow_private_targets.
    bool allow_private_targets = false;
    absl::Duration timeout = absl::Seconds(10);
    absl::Duration connect_timeout = absl::Seconds(5);
  };
  static absl::StatusOr<std::unique_ptr<CurlWebhookSender>> Create(Options options);

  absl::StatusOr<int> Post(const WebhookRequest& request) override;

 private:
  explicit CurlWebhookSender(Options options) : options_(options) {}
  const Options options_;
};

}  // namespace stamina::webhooks

#endif  // STAMINA_WEBHOOKS_CURL_SENDER_H_
