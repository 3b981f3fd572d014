#include "common/adapter_targets.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina {
namespace {

using ::testing::HasSubstr;

TEST(AdapterTargetsTest, AcceptsTheAttentionProjections) {
  for (const char* target : {"attn1.to_q", "attn1.to_k", "attn2.to_v", "attn2.to_out.0"}) {
    EXPECT_TRUE(CheckAdapterTarget(target, "targets").ok()) << target;
  }
}

TEST(AdapterTargetsTest, RefusesOthersNamingTheField) {
  for (const std::string& target : std::vector<std::string>
       {"", "attn2", "to_k", "attn3.to_k", "attn2.to_out", "down_blocks.0.attn2.to_k\n",
        std::string(1000, 'a')}) {
    absl::Status status = CheckAdapterTarget(target, "settings.target_modules[1]");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << target;
    EXPECT_THAT(status.message(), HasSubstr("settings.target_modules[1]: \""));
    EXPECT_LT(status.message().size(), 200u);
    EXPECT_EQ(status.message().find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace stamina
