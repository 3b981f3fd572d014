#include "webhooks/signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace stamina::webhooks {
namespace {

constexpr absl::string_view kSecretPrefix = "whsec_";
constexpr size_t kSecretBytes = 24;

absl::StatusOr<std::string> SecretKey(absl::string_view secret) {
  if (!absl::ConsumePrefix(&secret, kSecretPrefix)) {
    return absl::InvalidArgumentError("webhook secret: does not start with \"whsec_\"");
  }
  std::string key;
  if (!absl::Base64Unescape(secret, &key) || key.empty()) {
    return absl::InvalidArgumentError("webhook secret: not base64 after \"whsec_\"");
  }
  return key;
}

}  // namespace

std::string NewWebhookSecret() {
  unsigned char bytes[kSecretBytes];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();
  return absl::StrCat(kSecretPrefix,
                      absl::Base64Escape(absl::string_view(reinterpret_cast<char*>(bytes),
                                                           sizeof(bytes))));
}

absl::StatusOr<std::string> SignWebhook(absl::string_view secret, absl::string_view id,
                                        int64_t timestamp_seconds, absl::string_view body) {
  absl::StatusOr<std::string> key = SecretKey(secret);
  if (!key.ok()) return key.status();
  const std::string signed_content = absl::StrCat(id, ".", timestamp_seconds, ".", body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  if (HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
           reinterpret_cast<const unsigned char*>(signed_content.data()), signed_content.size(),
           mac, &mac_length) == nullptr) {
    return absl::InternalError("HMAC-SHA256 failed");
  }
  return absl::StrCat(
      "v1,", absl::Base64Escape(absl::string_view(reinterpret_cast<char*>(mac), mac_length)));
}

absl::Status VerifyWebhook(absl::string_view secret, absl::string_view id,
                           absl::string_view timestamp, absl::string_view signature_header,
                           absl::string_view body, absl::Time now, absl::Duration tolerance) {
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(timestamp, &seconds)) {
    return absl::PermissionDeniedError("webhook-timestamp: not a number");
  }
  if (absl::AbsDuration(now - absl::FromUnixSeconds(seconds)) > tolerance) {
    return absl::PermissionDeniedError("webhook-timestamp: too far from now (a replay?)");
  }
  absl::StatusOr<std::string> expected = SignWebhook(secret, id, seconds, body);
  if (!expected.ok()) return expected.status();
  for (absl::string_view candidate : absl::StrSplit(signature_header, ' ', absl::SkipEmpty())) {
    if (candidate.size() == expected->size() &&
        CRYPTO_memcmp(candidate.data(), expected->data(), candidate.size()) == 0) {
      return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError("webhook-signature: no signature matches");
}

}  // namespace stamina::webhooks
