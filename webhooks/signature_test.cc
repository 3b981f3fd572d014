#include "webhooks/signature.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::webhooks {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The example of the Standard Webhooks specification's reference libraries.
constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kTimestamp = 1614265330;
constexpr char kBody[] = R"({"test": 2432232314})";
constexpr char kSignature[] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

TEST(SignatureTest, MatchesTheSpecificationsExample) {
  EXPECT_THAT(SignWebhook(kSecret, kId, kTimestamp, kBody), IsOkAndHolds(kSignature));
}

TEST(SignatureTest, VerifiesAndRefusesTamperingAndReplays) {
  const absl::Time now = absl::FromUnixSeconds(kTimestamp + 10);
  STAMINA_EXPECT_OK(VerifyWebhook(kSecret, kId, "1614265330", kSignature, kBody, now));
  // Several signatures (a rotation): any match will do.
  STAMINA_EXPECT_OK(VerifyWebhook(kSecret, kId, "1614265330",
                                  std::string("v1,bm90IGl0 ") + kSignature, kBody, now));
  EXPECT_THAT(VerifyWebhook(kSecret, kId, "1614265330", kSignature, R"({"test": 1})", now),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("no signature")));
  EXPECT_THAT(VerifyWebhook(kSecret, "msg_other", "1614265330", kSignature, kBody, now),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("no signature")));
  EXPECT_THAT(VerifyWebhook(kSecret, kId, "1614265330", kSignature, kBody,
                            now + absl::Minutes(10)),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("replay")));
  EXPECT_THAT(VerifyWebhook("whsec_b3RoZXIga2V5", kId, "1614265330", kSignature, kBody, now),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("no signature")));
}

TEST(SignatureTest, NewSecretsAreDistinctAndUsable) {
  const std::string a = NewWebhookSecret(), b = NewWebhookSecret();
  EXPECT_THAT(a, StartsWith("whsec_"));
  EXPECT_EQ(a.size(), 6u + 32u);  // 24 bytes in base64
  EXPECT_NE(a, b);
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string signature, SignWebhook(a, "msg_1", 5, "{}"));
  STAMINA_EXPECT_OK(VerifyWebhook(a, "msg_1", "5", signature, "{}", absl::FromUnixSeconds(5)));
  EXPECT_THAT(SignWebhook("secret", "msg_1", 5, "{}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("whsec_")));
}

}  // namespace
}  // namespace stamina::webhooks
