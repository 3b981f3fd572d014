#include "rpc/internal_auth.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::rpc {
namespace {

using ::testing::HasSubstr;

const std::string kWorkerToken(40, 'w');
const std::string kSamplerToken(40, 's');

std::string WriteFile(const std::string& name, const std::string& text, mode_t mode) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
  std::remove(path.c_str());
  std::ofstream(path) << text;
  chmod(path.c_str(), mode);
  return path;
}

TEST(InternalTokensTest, ReadsRolesNamesAndTokens) {
  const std::string path = WriteFile(
      "tokens", "# role name token\n\nworker pool-a " + kWorkerToken +
                    "\n  sampler\tsampler-0:7071  " + kSamplerToken + "  \n",
      0600);
  STAMINA_ASSERT_OK_AND_ASSIGN(InternalTokens tokens, InternalTokens::ReadFile(path));
  STAMINA_ASSERT_OK_AND_ASSIGN(
      InternalPrincipal worker,
      tokens.AuthenticateHeader("Bearer " + kWorkerToken, InternalRole::kWorker, "queue"));
  EXPECT_EQ(worker.name, "pool-a");
  EXPECT_THAT(tokens.TokenOf(InternalRole::kSampler, "sampler-0:7071"),
              IsOkAndHolds(kSamplerToken));
  EXPECT_THAT(tokens.TokenOf(InternalRole::kSampler, "pool-a"),
              StatusCodeIs(absl::StatusCode::kNotFound));
}

TEST(InternalTokensTest, RefusesWrongMissingAndOtherRolesTokens) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      InternalTokens tokens,
      InternalTokens::FromEntries(
          {{.principal = {.role = InternalRole::kWorker, .name = "pool"}, .token = kWorkerToken},
           {.principal = {.role = InternalRole::kSampler, .name = "s0"},
            .token = kSamplerToken}}));
  EXPECT_THAT(tokens.AuthenticateHeader("", InternalRole::kWorker, "the queue"),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("the queue")));
  EXPECT_THAT(tokens.AuthenticateHeader("Bearer " + kWorkerToken + "x",
                                        InternalRole::kWorker, "q"),
              StatusCodeIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(tokens.AuthenticateHeader(kWorkerToken, InternalRole::kWorker, "q"),
              StatusCodeIs(absl::StatusCode::kUnauthenticated));
  // A replica's token does not open the work queue, nor a worker's the blobs.
  EXPECT_THAT(tokens.AuthenticateHeader("Bearer " + kSamplerToken, InternalRole::kWorker, "q"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("sampler \"s0\"")));
  EXPECT_THAT(tokens.AuthenticateHeader("Bearer " + kWorkerToken, InternalRole::kSampler, "b"),
              StatusCodeIs(absl::StatusCode::kPermissionDenied));
}

TEST(InternalTokensTest, RefusesBadFiles) {
  EXPECT_THAT(InternalTokens::ReadFile("/nonexistent/tokens"),
              StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(InternalTokens::ReadFile(WriteFile("open", "worker a " + kWorkerToken, 0644)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("chmod 600")));
  EXPECT_THAT(InternalTokens::ReadFile(WriteFile("role", "root a " + kWorkerToken, 0600)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 1")));
  EXPECT_THAT(InternalTokens::ReadFile(WriteFile("words", "\nworker a\n", 0600)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 2")));
  EXPECT_THAT(InternalTokens::ReadFile(WriteFile("short", "worker a short", 0600)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("32 characters")));
  EXPECT_THAT(InternalTokens::ReadFile(WriteFile(
                  "same", "worker a " + kWorkerToken + "\nsampler b " + kWorkerToken, 0600)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("the same")));
  EXPECT_THAT(InternalTokens::ReadFile(WriteFile(
                  "twice", "worker a " + kWorkerToken + "\nworker a " + kSamplerToken, 0600)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("repeated")));
}

TEST(SecretFileTest, ReadsOnePrivateToken) {
  EXPECT_THAT(ReadSecretFile(WriteFile("secret", kWorkerToken + "\n", 0400)),
              IsOkAndHolds(kWorkerToken));
  EXPECT_THAT(ReadSecretFile(WriteFile("shared", kWorkerToken, 0640)),
              StatusCodeIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(ReadSecretFile(WriteFile("two", kWorkerToken + " " + kSamplerToken, 0600)),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SecretFromFileOrEnvironment("", "STAMINA_TEST_UNSET_VARIABLE", "--token_file"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--token_file")));
  EXPECT_THAT(SecretFromFileOrEnvironment("/nonexistent", "X", "--token_file"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("--token_file")));
}

TEST(SecretFileModeTest, AllowsOnlyTheOwnerOrAKubernetesFsGroupMount) {
  // Owner only: private whoever owns it.
  EXPECT_TRUE(SecretFileModeIsPrivate(
      {.mode = 0100600, .uid = 5, .gid = 5, .process_uid = 5, .process_gid = 5}));
  EXPECT_TRUE(SecretFileModeIsPrivate({.mode = 0100400}));
  // Others may read: never.
  EXPECT_FALSE(SecretFileModeIsPrivate(
      {.mode = 0100604, .uid = 5, .gid = 5, .process_uid = 5, .process_gid = 5}));
  // A Secret volume with fsGroup 10001: root-owned 0440, read by uid 10001
  // whose group is 10001.
  const SecretFileOwnership mounted{
      .mode = 0100440, .uid = 0, .gid = 10001, .process_uid = 10001, .process_gid = 10001};
  EXPECT_TRUE(SecretFileModeIsPrivate(mounted));
  // ...but not when the group is someone else's, may write, or the reader is
  // root (then the group bit is a real widening), or a user owns it.
  SecretFileOwnership other_group = mounted;
  other_group.gid = 100;
  EXPECT_FALSE(SecretFileModeIsPrivate(other_group));
  SecretFileOwnership group_writable = mounted;
  group_writable.mode = 0100460;
  EXPECT_FALSE(SecretFileModeIsPrivate(group_writable));
  SecretFileOwnership read_by_root = mounted;
  read_by_root.process_uid = 0;
  read_by_root.gid = read_by_root.process_gid = 0;
  EXPECT_FALSE(SecretFileModeIsPrivate(read_by_root));
  SecretFileOwnership user_owned = mounted;
  user_owned.uid = 10001;
  EXPECT_FALSE(SecretFileModeIsPrivate(user_owned));
}

TEST(SecretsEqualTest, ComparesWholeSecrets) {
  EXPECT_TRUE(SecretsEqual(kWorkerToken, kWorkerToken));
  EXPECT_FALSE(SecretsEqual(kWorkerToken, kWorkerToken.substr(1)));
  EXPECT_FALSE(SecretsEqual("", kWorkerToken));
}

}  // namespace
}  // namespace stamina::rpc
