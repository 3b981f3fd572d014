#include "core/adapters/adapter_config.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::core {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(AdapterConfigTest, MethodDefaults) {
  EXPECT_EQ(DefaultAdapterConfig(AdapterMethod::kStamina).token, TokenKind::kMlp);
  EXPECT_EQ(DefaultAdapterConfig(AdapterMethod::kCLora).token, TokenKind::kDirect);
  EXPECT_EQ(DefaultAdapterConfig(AdapterMethod::kLora).token, TokenKind::kDirect);
  const AdapterConfig config = DefaultAdapterConfig(AdapterMethod::kStamina);
  EXPECT_EQ(config.targets, (std::vector<std::string>{"attn2.to_k", "attn2.to_v"}));
  EXPECT_TRUE(ValidateAdapterConfig(config).ok());
}

TEST(AdapterConfigTest, JsonRoundTripKeepsEverySwitch) {
  AdapterConfig config = DefaultAdapterConfig(AdapterMethod::kStamina);
  config.targets = {"attn1.to_q", "attn2.to_out.0"};
  config.rank = 7;
  config.alpha = 3.5;
  config.clora_lambda = 1e7;
  config.clora_regularization = true;
  config.mask = false;
  config.mask_rank = 3;
  config.mask_activation = MaskActivation::kGelu;
  config.mask_tau = 0.25;
  config.mask_init_bias = -1;
  config.hard_mask = false;
  config.sparsity = MaskSparsity::kHat;
  config.sparsity_weight = 0.5;
  config.overlap = MaskOverlap::kExclusive;
  config.overlap_weight = 0.125;
  config.token = TokenKind::kDirect;
  config.token_mlp_hidden = 64;
  // Unset, the initializer is not written: artifacts made before it existed
  // keep their bytes.
  EXPECT_THAT(AdapterConfigToJson(config), Not(HasSubstr("token_initializer")));
  EXPECT_THAT(AdapterConfigToJson(config), Not(HasSubstr("target_ranks")));
  EXPECT_THAT(AdapterConfigToJson(config), Not(HasSubstr("sparsity_warmup")));
  config.token_initializer = "face";
  config.target_ranks = {{"attn2.to_out.0", 9}};
  config.sparsity_warmup = 0.25;
  const std::string json = AdapterConfigToJson(config);
  STAMINA_ASSERT_OK_AND_ASSIGN(AdapterConfig parsed, AdapterConfigFromJson(json));
  EXPECT_EQ(AdapterConfigToJson(parsed), json);
  EXPECT_EQ(parsed.sparsity, MaskSparsity::kHat);
  EXPECT_EQ(parsed.overlap, MaskOverlap::kExclusive);
  EXPECT_EQ(parsed.mask_activation, MaskActivation::kGelu);
  EXPECT_EQ(parsed.targets, config.targets);
  EXPECT_EQ(parsed.token_initializer, "face");
  EXPECT_EQ(parsed.target_ranks, config.target_ranks);
  EXPECT_EQ(parsed.sparsity_warmup, 0.25);
}

TEST(AdapterConfigTest, RankPerLayerAndSparsityScheduleWithTheirChecks) {
  AdapterConfig config = DefaultAdapterConfig(AdapterMethod::kStamina);
  config.rank = 4;
  config.target_ranks = {{"attn2.to_v", 8}};
  EXPECT_EQ(RankOf(config, "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_v"), 8);
  EXPECT_EQ(RankOf(config, "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k"), 4);
  EXPECT_TRUE(ValidateAdapterConfig(config).ok());
  config.target_ranks = {{"attn1.to_q", 8}};  // not a target
  EXPECT_THAT(ValidateAdapterConfig(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("target_ranks")));
  config.target_ranks = {{"attn2.to_v", 0}};
  EXPECT_THAT(ValidateAdapterConfig(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("target_ranks")));
  config.target_ranks.clear();

  EXPECT_EQ(SparsityScale(config, 0), 1);  // no warmup: γ from the start
  config.sparsity_warmup = 0.5;
  EXPECT_EQ(SparsityScale(config, 0), 0);
  EXPECT_DOUBLE_EQ(SparsityScale(config, 0.25), 0.5);
  EXPECT_EQ(SparsityScale(config, 0.75), 1);
  config.sparsity_warmup = 1.5;
  EXPECT_THAT(ValidateAdapterConfig(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sparsity_warmup")));
}

TEST(AdapterConfigTest, RefusesBadValuesNamingTheField) {
  AdapterConfig config;
  config.rank = 0;
  EXPECT_THAT(ValidateAdapterConfig(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("rank")));
  config = AdapterConfig();
  config.targets = {"attn2.to_z"};
  EXPECT_THAT(ValidateAdapterConfig(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("targets")));
  config = AdapterConfig();
  config.mask_tau = 0;
  EXPECT_THAT(ValidateAdapterConfig(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("mask_tau")));
  EXPECT_THAT(AdapterConfigFromJson(R"({"sparsity": "lots"})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sparsity")));
  EXPECT_THAT(AdapterConfigFromJson(R"({"rank": "four"})"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(AdapterConfigFromJson(R"({"colour": 1})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("colour")));
  EXPECT_THAT(AdapterConfigFromJson("[1]"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseAdapterMethod("dreambooth"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stamina")));
}

}  // namespace
}  // namespace stamina::core
