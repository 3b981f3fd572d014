#include "server/training_settings.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(TrainingSettingsTest, FillsDefaultsForStamina) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      v1::TrainingSettings s,
      EffectiveTrainingSettings({}, ServiceLimits{}, TrainingDefaults{}, 77));
  EXPECT_EQ(s.method(), v1::TRAINING_METHOD_STAMINA);
  EXPECT_EQ(s.steps(), 200);
  EXPECT_FLOAT_EQ(s.learning_rate(), 2e-3f);
  EXPECT_FLOAT_EQ(s.token_learning_rate(), 1e-2f);
  EXPECT_EQ(s.stamina().mask_rank(), 8);
  EXPECT_EQ(s.batch_size(), 4);
  EXPECT_EQ(s.lora_rank(), 4);
  EXPECT_EQ(s.seed(), 77);
  EXPECT_THAT(s.target_modules(), ElementsAre("attn2.to_k", "attn2.to_v"));
  EXPECT_EQ(s.stamina().sparsity(), v1::MASK_SPARSITY_L1);
  EXPECT_EQ(s.stamina().overlap(), v1::MASK_OVERLAP_FREE);
  EXPECT_FLOAT_EQ(s.stamina().mask_init_bias(), 2.0f);
  EXPECT_FALSE(s.has_clora());
}

TEST(TrainingSettingsTest, KeepsWhatTheClientSet) {
  v1::TrainingSettings requested;
  requested.set_method(v1::TRAINING_METHOD_CLORA);
  requested.set_steps(123);
  requested.set_seed(5);
  requested.mutable_stamina()->set_mask_rank(9);  // ignored for C-LoRA
  STAMINA_ASSERT_OK_AND_ASSIGN(
      v1::TrainingSettings s,
      EffectiveTrainingSettings(requested, ServiceLimits{}, TrainingDefaults{}, 77));
  EXPECT_EQ(s.steps(), 123);
  EXPECT_EQ(s.seed(), 5);
  EXPECT_FLOAT_EQ(s.clora().regularization_weight(), 1e3f);
  EXPECT_FALSE(s.has_stamina());
}

TEST(TrainingSettingsTest, OutOfRangeNamesTheField) {
  v1::TrainingSettings steps;
  steps.set_steps(100000);
  EXPECT_THAT(EffectiveTrainingSettings(steps, ServiceLimits{}, TrainingDefaults{}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("settings.steps")));
  v1::TrainingSettings lr;
  lr.set_learning_rate(-1);
  EXPECT_THAT(EffectiveTrainingSettings(lr, ServiceLimits{}, TrainingDefaults{}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("settings.learning_rate")));
  v1::TrainingSettings nan;
  nan.mutable_stamina()->set_mask_temperature(std::nanf(""));
  EXPECT_THAT(EffectiveTrainingSettings(nan, ServiceLimits{}, TrainingDefaults{}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("settings.stamina.mask_temperature")));
  v1::TrainingSettings method;
  method.set_method(static_cast<v1::TrainingMethod>(42));
  EXPECT_THAT(EffectiveTrainingSettings(method, ServiceLimits{}, TrainingDefaults{}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("settings.method")));
  v1::TrainingSettings target;
  target.add_target_modules("");
  EXPECT_THAT(EffectiveTrainingSettings(target, ServiceLimits{}, TrainingDefaults{}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("settings.target_modules[0]")));
  // Checked here, before a job is queued, against the same vocabulary the
  // worker builds adapters from.
  v1::TrainingSettings unknown;
  unknown.add_target_modules("attn2.to_k");
  unknown.add_target_modules("mid_block.resnets.0.conv1");
  EXPECT_THAT(EffectiveTrainingSettings(unknown, ServiceLimits{}, TrainingDefaults{}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("settings.target_modules[1]: \"mid_block")));
  v1::TrainingSettings repeated;
  repeated.add_target_modules("attn2.to_v");
  repeated.add_target_modules("attn1.to_q");
  repeated.add_target_modules("attn2.to_v");
  EXPECT_THAT(EffectiveTrainingSettings(repeated, ServiceLimits{}, TrainingDefaults{}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("settings.target_modules[2]: repeats target_modules[0]")));
}

TEST(TrainingSettingsTest, TokenInitializerIsOneWordKeptAsGiven) {
  v1::TrainingSettings requested;
  requested.set_token_initializer("face");
  STAMINA_ASSERT_OK_AND_ASSIGN(
      v1::TrainingSettings s, EffectiveTrainingSettings(requested, ServiceLimits{}, {}, 5));
  EXPECT_EQ(s.token_initializer(), "face");
  for (const std::string& bad : std::vector<std::string>{"a face", "<anna>", std::string(65, 'x')}) {
    requested.set_token_initializer(bad);
    EXPECT_THAT(EffectiveTrainingSettings(requested, ServiceLimits{}, {}, 5),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("settings.token_initializer: ")))
        << bad;
  }
}

TEST(TrainingSettingsTest, AugmentationDefaultsOnAndKeepsOff) {
  STAMINA_ASSERT_OK_AND_ASSIGN(v1::TrainingSettings defaults,
                               EffectiveTrainingSettings({}, ServiceLimits{}, {}, 5));
  EXPECT_EQ(defaults.augmentation().flip(), v1::AUGMENTATION_SWITCH_ON);
  EXPECT_EQ(defaults.augmentation().shift(), v1::AUGMENTATION_SWITCH_ON);

  v1::TrainingSettings requested;
  requested.mutable_augmentation()->set_shift(v1::AUGMENTATION_SWITCH_OFF);
  STAMINA_ASSERT_OK_AND_ASSIGN(v1::TrainingSettings s,
                               EffectiveTrainingSettings(requested, ServiceLimits{}, {}, 5));
  EXPECT_EQ(s.augmentation().flip(), v1::AUGMENTATION_SWITCH_ON);
  EXPECT_EQ(s.augmentation().shift(), v1::AUGMENTATION_SWITCH_OFF);

  requested.mutable_augmentation()->set_flip(static_cast<v1::AugmentationSwitch>(7));
  EXPECT_THAT(EffectiveTrainingSettings(requested, ServiceLimits{}, {}, 5),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("settings.augmentation.flip: unknown value 7")));
}

TEST(ErasureModeForTest, TheRequestElseTheTenantsPolicy) {
  using storage::ErasureMode;
  using storage::ErasurePolicy;
  EXPECT_THAT(ErasureModeFor(v1::ERASURE_MODE_UNSPECIFIED, ErasurePolicy::kReplay),
              IsOkAndHolds(ErasureMode::kReplay));
  EXPECT_THAT(ErasureModeFor(v1::ERASURE_MODE_UNSPECIFIED, ErasurePolicy::kDropOnly),
              IsOkAndHolds(ErasureMode::kDrop));
  EXPECT_THAT(ErasureModeFor(v1::ERASURE_MODE_DROP, ErasurePolicy::kReplay),
              IsOkAndHolds(ErasureMode::kDrop));
  EXPECT_THAT(ErasureModeFor(v1::ERASURE_MODE_REPLAY, ErasurePolicy::kDropOnly),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("drop only")));
  EXPECT_THAT(ErasureModeFor(static_cast<v1::ErasureMode>(9), ErasurePolicy::kReplay),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("mode")));
}

}  // namespace
}  // namespace stamina::server
