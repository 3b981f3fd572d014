// File: webhooks/url_policy.h
//
// Which callback URLs the server will POST to. A webhook URL is the
// client's choice of a target for the server's own requests, so it is
// checked against server-side request forgery: http or https only, no user
// info, and no target inside the server's networks: loopback, link-local
// (cloud metadata endpoints live there), private (RFC 1918, fc00::/7),
// carrier-grade NAT, unspecified and multicast addresses, and "localhost"
// names, unless the server runs with --webhook_allow_private_targets (for
// tests and private deployments). Names are resolved at delivery time and
// every address must pass; the connection then goes to a checked address
// (no second lookup an attacker's DNS could answer differently).
//
// Thread-safe (no state).
#ifndef STAMINA_WEBHOOKS_URL_POLICY_H_
#define STAMINA_WEBHOOKS_URL_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace stamina::webhooks {

inline constexpr size_t kMaxWebhookUrlLength = 2048;

struct WebhookTarget {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  int port = 0;
};

// INVALID_ARGUMENT naming `field` unless `url` is an http(s) URL with a
// host, no user info or fragment, printable ASCII, at most 2048 characters.
absl::StatusOr<WebhookTarget> ParseWebhookUrl(absl::string_view url, absl::string_view field);

// Parses, and refuses an IP-literal or "localhost" target outside the public
// internet unless `allow_private` (names are checked again when resolved).
absl::Status CheckWebhookUrl(absl::string_view url, absl::string_view field, bool allow_private);

// Whether the textual IPv4/IPv6 address is a public unicast one.
bool IsPublicAddress(absl::string_view ip);

// The target's addresses (textual IPs), every one allowed by the policy;
// UNAVAILABLE when the name does not resolve, PERMISSION_DENIED when an
// address is not allowed.
absl::StatusOr<std::vector<std::string>> ResolveWebhookTarget(const WebhookTarget& target,
                                                              bool allow_private);

}  // namespace stamina::webhooks

#endif  // STAMINA_WEBHOOKS_URL_POLICY_H_
