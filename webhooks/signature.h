// File: webhooks/signature.h
//
// Standard Webhooks signatures (https://www.standardwebhooks.com): a secret
// is "whsec_" + base64 of 24 random bytes; a delivery carries the headers
// webhook-id, webhook-timestamp (Unix seconds) and webhook-signature,
// "v1," + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), where key is
// the secret's decoded bytes. Receivers verify with the same key and refuse
// timestamps far from their clock (replays). The SDKs implement the same
// check (client_examples/*/webhooks).
//
// Thread-safe (no state).
#ifndef STAMINA_WEBHOOKS_SIGNATURE_H_
#define STAMINA_WEBHOOKS_SIGNATURE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace stamina::webhooks {

// A new random secret, "whsec_..." (OpenSSL RAND).
std::string NewWebhookSecret();

// The webhook-signature header for one delivery; INVALID_ARGUMENT when the
// secret is not "whsec_" + base64.
absl::StatusOr<std::string> SignWebhook(absl::string_view secret, absl::string_view id,
                                        int64_t timestamp_seconds, absl::string_view body);

// OK when one of the space-separated signatures in `signature_header`
// matches (compared in constant time) and the timestamp is within
// `tolerance` of `now`; PERMISSION_DENIED otherwise, saying why.
absl::Status VerifyWebhook(absl::string_view secret, absl::string_view id,
                           absl::string_view timestamp, absl::string_view signature_header,
                           absl::string_view body, absl::Time now,
                           absl::Duration tolerance = absl::Minutes(5));

}  // namespace stamina::webhooks

#endif  // STAMINA_WEBHOOKS_SIGNATURE_H_
