#include "webhooks/url_policy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace stamina::webhooks {
namespace {

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

bool IsLocalhostName(absl::string_view host) {
  const std::string lower = absl::AsciiStrToLower(host);
  return lower == "localhost" || absl::EndsWith(lower, ".localhost") ||
         lower == "localhost." || absl::EndsWith(lower, ".localhost.");
}

bool PublicV4(uint32_t a) {  // host byte order
  auto in = [a](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  return !(in(0x00000000, 8) ||    // 0.0.0.0/8 "this network"
           in(0x0A000000, 8) ||    // 10/8
           in(0x64400000, 10) ||   // 100.64/10 carrier-grade NAT
           in(0x7F000000, 8) ||    // 127/8 loopback
           in(0xA9FE0000, 16) ||   // 169.254/16 link-local (metadata services)
           in(0xAC100000, 12) ||   // 172.16/12
           in(0xC0000000, 24) ||   // 192.0.0/24 protocol assignments
           in(0xC0A80000, 16) ||   // 192.168/16
           in(0xC6120000, 15) ||   // 198.18/15 benchmarking
           in(0xE0000000, 4) ||    // 224/4 multicast
           in(0xF0000000, 4));     // 240/4 reserved, broadcast
}

uint32_t V4At(const unsigned char* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

bool PublicV6(const unsigned char b[16]) {
  static const unsigned char kZero[10] = {};
  // ::ffff:a.b.c.d (IPv4-mapped): the IPv4 address decides.
  if (std::memcmp(b, kZero, 10) == 0 && b[10] == 0xff && b[11] == 0xff)
    return PublicV4(V4At(b + 12));
  // Only global unicast (2000::/3) is public; that also refuses ::, ::1,
  // IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96, unique local fc00::/7,
  // link- and site-local fe80::/10 and fec0::/10, and multicast.
  if ((b[0] & 0xe0) != 0x20) return false;
  if (b[0] == 0x20 && b[1] == 0x02) return PublicV4(V4At(b + 2));                  // 2002::/16 6to4
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00) return false;  // Teredo
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return false;  // docs
  return true;
}

// A host name as DNS spells it: letters, digits, hyphens and dots. Anything
// else (percent-escapes, underscores, Unicode) could be read differently by
// the resolver here and by curl, defeating the address check.
bool IsPlainHostName(absl::string_view host) {
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return !host.empty() && host.front() != '-' && host.front() != '.';
}

}  // namespace

absl::StatusOr<WebhookTarget> ParseWebhookUrl(absl::string_view url, absl::string_view field) {
  if (url.size() > kMaxWebhookUrlLength) {
    return Bad(field, absl::StrCat("longer than ", kMaxWebhookUrlLength, " characters"));
  }
  for (char c : url) {
    if (c <= ' ' || c > '~') return Bad(field, "only printable ASCII without spaces");
  }
  WebhookTarget target;
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "https://")) {
    target.scheme = "https";
    target.port = 443;
  } else if (absl::ConsumePrefix(&rest, "http://")) {
    target.scheme = "http";
    target.port = 80;
  } else {
    return Bad(field, "must start with http:// or https://");
  }
  if (absl::StrContains(url, '#')) return Bad(field, "a fragment (#) is not allowed");
  const absl::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (absl::StrContains(authority, '@')) return Bad(field, "user info (user@) is not allowed");
  absl::string_view host = authority, port;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return Bad(field, "unclosed [ in the host");
    host = authority.substr(1, close - 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty() && !absl::ConsumePrefix(&after, ":")) return Bad(field, "bad host");
    port = after;
    in6_addr unused;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &unused) != 1) {
      return Bad(field, "not an IPv6 address in [ ]");
    }
  } else if (const size_t colon = authority.rfind(':'); colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return Bad(field, "no host");
  if (!absl::StartsWith(authority, "[")) {
    if (!IsPlainHostName(host)) {
      return Bad(field, "the host may hold only letters, digits, '-' and '.'");
    }
    // 2130706433, 0x7f.1, 127.1, 0177.0.0.1: IPv4 in forms only some parsers
    // take. Four decimal numbers or a name.
    in_addr any_form, strict;
    const std::string text(host);
    if (inet_aton(text.c_str(), &any_form) != 0 && inet_pton(AF_INET, text.c_str(), &strict) != 1) {
      return Bad(field, "write an IPv4 address as four decimal numbers");
    }
  }
  if (!port.empty() || absl::EndsWith(authority, ":")) {
    int number = 0;
    if (!absl::SimpleAtoi(port, &number) || number < 1 || number > 65535) {
      return Bad(field, "the port must be 1-65535");
    }
    target.port = number;
  }
  target.host = std::string(host);
  return target;
}

bool IsPublicAddress(absl::string_view ip) {
  const std::string text(ip);
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return PublicV4(ntohl(v4.s_addr));
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) return PublicV6(v6.s6_addr);
  return false;
}

absl::Status CheckWebhookUrl(absl::string_view url, absl::string_view field, bool allow_private) {
  absl::StatusOr<WebhookTarget> target = ParseWebhookUrl(url, field);
  if (!target.ok() || allow_private) return target.status();
  in6_addr v6;
  in_addr v4;
  const bool literal = inet_pton(AF_INET, target->host.c_str(), &v4) == 1 ||
                       inet_pton(AF_INET6, target->host.c_str(), &v6) == 1;
  if ((literal && !IsPublicAddress(target->host)) || IsLocalhostName(target->host)) {
    return Bad(field, absl::StrCat(target->host,
                                   " is a loopback, link-local or private target; this server "
                                   "only calls public addresses"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ResolveWebhookTarget(const WebhookTarget& target,
                                                              bool allow_private) {
  if (!allow_private && IsLocalhostName(target.host)) {
    return absl::PermissionDeniedError(absl::StrCat(target.host, " is a local name"));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int error = getaddrinfo(target.host.c_str(), nullptr, &hints, &found);
  if (error != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", target.host, ": ", gai_strerror(error)));
  }
  std::vector<std::string> addresses;
  absl::Status refused;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw = a->ai_family == AF_INET
                          ? static_cast<const void*>(
                                &reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr)
                          : static_cast<const void*>(
                                &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if (inet_ntop(a->ai_family, raw, text, sizeof(text)) == nullptr) continue;
    if (!allow_private && !IsPublicAddress(text)) {
      refused = absl::PermissionDeniedError(
          absl::StrCat(target.host, " resolves to ", text, ", which is not public"));
      break;
    }
    bool seen = false;
    for (const std::string& known : addresses) seen = seen || known == text;
    if (!seen) addresses.push_back(text);
  }
  freeaddrinfo(found);
  if (!refused.ok()) return refused;
  if (addresses.empty()) return absl::UnavailableError(absl::StrCat(target.host, ": no address"));
  return addresses;
}

}  // namespace stamina::webhooks
