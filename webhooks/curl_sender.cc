#include "webhooks/curl_sender.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "webhooks/url_policy.h"

namespace stamina::webhooks {
namespace {

// The answer's body is not needed; reading it lets the connection finish.
size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

// Every socket curl opens is checked against the policy once more, with
// the address it will really connect to: whatever curl resolved or was
// pinned to, a non-public address gets no socket.
curl_socket_t OpenCheckedSocket(void* allow_private, curlsocktype, curl_sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw = address->family == AF_INET
                        ? static_cast<const void*>(
                              &reinterpret_cast<const sockaddr_in*>(&address->addr)->sin_addr)
                        : static_cast<const void*>(
                              &reinterpret_cast<const sockaddr_in6*>(&address->addr)->sin6_addr);
  if ((address->family != AF_INET && address->family != AF_INET6) ||
      inet_ntop(address->family, raw, text, sizeof(text)) == nullptr ||
      (!*static_cast<const bool*>(allow_private) && !IsPublicAddress(text))) {
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

absl::StatusOr<std::unique_ptr<CurlWebhookSender>> CurlWebhookSender::Create(Options options) {
  // Once per process, before any thread uses curl.
  static const CURLcode initialized = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (initialized != CURLE_OK) {
    return absl::InternalError(absl::StrCat("curl_global_init: ", curl_easy_strerror(initialized)));
  }
  if (options.timeout <= absl::ZeroDuration() || options.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeouts must be positive");
  }
  return std::unique_ptr<CurlWebhookSender>(new CurlWebhookSender(options));
}

absl::StatusOr<int> CurlWebhookSender::Post(const WebhookRequest& request) {
  absl::StatusOr<WebhookTarget> target = ParseWebhookUrl(request.url, "url");
  if (!target.ok()) return target.status();
  absl::StatusOr<std::vector<std::string>> addresses =
      ResolveWebhookTarget(*target, options_.allow_private_targets);
  if (!addresses.ok()) return addresses.status();
  std::vector<std::string> bracketed;
  for (const std::string& address : *addresses) {
    bracketed.push_back(address.find(':') == std::string::npos ? address
                                                                : absl::StrCat("[", address, "]"));
  }
  std::unique_ptr<curl_slist, SlistDeleter> resolve(curl_slist_append(
      nullptr, absl::StrCat(target->host, ":", target->port, ":", absl::StrJoin(bracketed, ","))
                   .c_str()));
  std::unique_ptr<curl_slist, SlistDeleter> headers(
      curl_slist_append(nullptr, "content-type: application/json"));
  for (const auto& [name, value] : request.headers) {
    headers.reset(curl_slist_append(headers.release(), absl::StrCat(name, ": ", value).c_str()));
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  // No proxy from the environment: it would resolve and connect for us.
  curl_easy_setopt(c, CURLOPT_PROXY, "");
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &OpenCheckedSocket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, const_cast<bool*>(&options_.allow_private_targets));
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "Stamina-Webhooks/1");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Discard);
  const CURLcode result = curl_easy_perform(c);
  if (result != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat(request.url, ": ", curl_easy_strerror(result)));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  return static_cast<int>(status);
}

}  // namespace stamina::webhooks
