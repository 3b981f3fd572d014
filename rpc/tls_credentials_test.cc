#include "rpc/tls_credentials.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::rpc {
namespace {

using ::testing::HasSubstr;

std::string TestFile(const std::string& name, const std::string& contents) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
  std::ofstream(path) << contents;
  return path;
}

TEST(ServerCredentialsForTest, PlaintextWithoutFilesAndBothFilesOrNeither) {
  EXPECT_THAT(ServerCredentialsFor({}), IsOk());
  EXPECT_THAT(ServerCredentialsFor({.cert_file = "cert.pem"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("set both")));
  EXPECT_THAT(ServerCredentialsFor({.key_file = "key.pem"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("set both")));
}

TEST(ServerCredentialsForTest, NamesTheUnreadableOrNonPemFile) {
  const std::string pem = TestFile("fake.pem", "-----BEGIN CERTIFICATE-----\nx\n");
  EXPECT_THAT(ServerCredentialsFor({.cert_file = pem, .key_file = "/no/such/key.pem"}),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("tls_key_file: cannot read /no/such/key.pem")));
  const std::string text = TestFile("text.pem", "not a certificate");
  EXPECT_THAT(ServerCredentialsFor({.cert_file = text, .key_file = pem}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tls_cert_file: " + text + " is not PEM")));
}

TEST(ChannelCredentialsForTest, PlaintextSystemRootsOrTheCaFile) {
  EXPECT_THAT(ChannelCredentialsFor({}), IsOk());
  EXPECT_THAT(ChannelCredentialsFor({.enabled = true}), IsOk());
  EXPECT_THAT(ChannelCredentialsFor({.ca_file = "/no/such/ca.pem"}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("tls_ca_file")));
  EXPECT_THAT(ChannelCredentialsFor({.ca_file = TestFile("ca.txt", "plain")}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not PEM")));
  EXPECT_THAT(ChannelCredentialsFor(
                  {.ca_file = TestFile("ca.pem", "-----BEGIN CERTIFICATE-----\nx\n")}),
              IsOk());
}

}  // namespace
}  // namespace stamina::rpc
