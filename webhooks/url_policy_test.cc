#include "webhooks/url_policy.h"

#include <string>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::webhooks {
namespace {

using ::testing::AnyOf;
using ::testing::Contains;
using ::testing::HasSubstr;

TEST(UrlPolicyTest, ParsesHttpAndHttpsUrls) {
  STAMINA_ASSERT_OK_AND_ASSIGN(WebhookTarget https,
                               ParseWebhookUrl("https://hooks.example.com/stamina?x=1", "url"));
  EXPECT_EQ(https.scheme, "https");
  EXPECT_EQ(https.host, "hooks.example.com");
  EXPECT_EQ(https.port, 443);
  STAMINA_ASSERT_OK_AND_ASSIGN(WebhookTarget http, ParseWebhookUrl("http://h:8080", "url"));
  EXPECT_EQ(http.port, 8080);
  STAMINA_ASSERT_OK_AND_ASSIGN(WebhookTarget v6, ParseWebhookUrl("http://[2001:db8::1]:9/p", "u"));
  EXPECT_EQ(v6.host, "2001:db8::1");
  EXPECT_EQ(v6.port, 9);
}

TEST(UrlPolicyTest, RefusesOtherSchemesAndMalformedUrlsNamingTheField) {
  for (const char* bad :
       {"ftp://example.com/x", "example.com/x", "https://", "https://:80/",
        "https://user:pw@example.com/", "https://example.com:0/", "https://example.com:99999/",
        "https://exa mple.com/", "https://example.com/#frag", "http://[::1/", "file:///etc/passwd",
        "http://a%2eb.example.com/", "http://ex_ample.com/", "http://-x.com/", "http://2130706433/",
        "http://0x7f.1/", "http://127.1/", "http://0177.0.0.1/"}) {
    EXPECT_THAT(ParseWebhookUrl(bad, "webhook_url"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("webhook_url: ")))
        << bad;
  }
  EXPECT_THAT(ParseWebhookUrl("https://example.com/" + std::string(3000, 'a'), "webhook_url"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("2048")));
}

TEST(UrlPolicyTest, OnlyPublicUnicastAddressesArePublic) {
  for (const char* ip : {"8.8.8.8", "93.184.216.34", "2001:4860:4860::8888", "2002:5db8:d822::1",
                         "::ffff:8.8.8.8"}) {
    EXPECT_TRUE(IsPublicAddress(ip)) << ip;
  }
  for (const char* ip : {"127.0.0.1",
                         "127.1.2.3",
                         "10.1.2.3",
                         "172.16.0.1",
                         "172.31.255.255",
                         "192.168.1.1",
                         "169.254.169.254",
                         "100.64.0.1",
                         "0.0.0.0",
                         "224.0.0.1",
                         "255.255.255.255",
                         "::",
                         "::1",
                         "fe80::1",
                         "fd00::1",
                         "fc00::2",
                         "ff02::1",
                         "::ffff:127.0.0.1",
                         "::ffff:10.0.0.1",
                         "::a9fe:a9fe",
                         "64:ff9b::a9fe:a9fe",
                         "2002:7f00:1::1",
                         "2002:a9fe:a9fe::1",
                         "fec0::1",
                         "2001:0:4136:e378::1",
                         "2001:db8::1",
                         "not an ip"}) {
    EXPECT_FALSE(IsPublicAddress(ip)) << ip;
  }
}

TEST(UrlPolicyTest, LoopbackAndPrivateTargetsNeedTheFlag) {
  for (const char* url : {"http://127.0.0.1:9000/hook", "http://[::1]/hook",
                          "http://169.254.169.254/latest/meta-data", "http://localhost:8080/",
                          "http://api.localhost/", "https://10.0.0.7/"}) {
    EXPECT_THAT(CheckWebhookUrl(url, "webhook_url", /*allow_private=*/false),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("webhook_url: "), HasSubstr("public"))))
        << url;
    STAMINA_EXPECT_OK(CheckWebhookUrl(url, "webhook_url", /*allow_private=*/true)) << url;
  }
  STAMINA_EXPECT_OK(CheckWebhookUrl("https://hooks.example.com/x", "webhook_url", false));
}

TEST(UrlPolicyTest, ResolvedAddressesAreCheckedToo) {
  const WebhookTarget loopback = {.scheme = "http", .host = "127.0.0.1", .port = 80};
  EXPECT_THAT(ResolveWebhookTarget(loopback, /*allow_private=*/false),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("not public")));
  EXPECT_THAT(ResolveWebhookTarget(loopback, /*allow_private=*/true),
              IsOkAndHolds(Contains("127.0.0.1")));
  const WebhookTarget local_name = {.scheme = "http", .host = "localhost", .port = 80};
  EXPECT_THAT(ResolveWebhookTarget(local_name, /*allow_private=*/false),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("local name")));
  EXPECT_THAT(ResolveWebhookTarget(local_name, /*allow_private=*/true),
              IsOkAndHolds(Contains(AnyOf("127.0.0.1", "::1"))));
}

}  // namespace
}  // namespace stamina::webhooks
