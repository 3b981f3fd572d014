#include "worker/training_request.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::worker {
namespace {

using ::testing::HasSubstr;

TEST(AdapterConfigForTest, CarriesEverySwitchOfTheSettings) {
  v1::TrainingSettings settings;
  settings.set_method(v1::TRAINING_METHOD_STAMINA);
  settings.set_lora_rank(6);
  settings.set_context_preservation(v1::CONTEXT_PRESERVATION_PROJECT);
  settings.set_context_energy(0.99f);
  settings.set_token_initializer("face");
  settings.mutable_stamina()->set_token_max_rms(2);
  settings.mutable_stamina()->set_overlap(v1::MASK_OVERLAP_EXCLUSIVE);
  STAMINA_ASSERT_OK_AND_ASSIGN(core::AdapterConfig config, AdapterConfigFor(settings));
  EXPECT_EQ(config.method, core::AdapterMethod::kStamina);
  EXPECT_EQ(config.rank, 6);
  EXPECT_EQ(config.context, core::ContextPreservation::kProject);
  EXPECT_FLOAT_EQ(config.context_energy, 0.99f);
  EXPECT_EQ(config.token_initializer, "face");
  EXPECT_EQ(config.token_max_rms, 2);
  EXPECT_EQ(config.overlap, core::MaskOverlap::kExclusive);

  settings.set_token_initializer("two words");
  EXPECT_THAT(AdapterConfigFor(settings),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("settings: token_initializer must be one word")));
}

TEST(TrainingRequestForTest, AugmentationSwitchesReachTheTrainer) {
  TrainingTask task;
  task.token = "<anna>";
  task.settings.set_steps(10);
  std::vector<core::Image> images(2, core::Image(32, 32));
  STAMINA_ASSERT_OK_AND_ASSIGN(core::ConceptTrainingRequest defaults,
                               TrainingRequestFor(task, images));
  EXPECT_TRUE(defaults.training.flip);
  EXPECT_EQ(defaults.training.max_shift, 2);  // 1/16 of 32

  task.settings.mutable_augmentation()->set_shift(v1::AUGMENTATION_SWITCH_OFF);
  STAMINA_ASSERT_OK_AND_ASSIGN(core::ConceptTrainingRequest no_shift,
                               TrainingRequestFor(task, images));
  EXPECT_TRUE(no_shift.training.flip);
  EXPECT_EQ(no_shift.training.max_shift, 0);

  task.settings.mutable_augmentation()->set_shift(v1::AUGMENTATION_SWITCH_ON);
  task.settings.mutable_augmentation()->set_flip(v1::AUGMENTATION_SWITCH_OFF);
  std::vector<core::Image> large(2, core::Image(512, 512));
  STAMINA_ASSERT_OK_AND_ASSIGN(core::ConceptTrainingRequest sd, TrainingRequestFor(task, large));
  EXPECT_FALSE(sd.training.flip);
  EXPECT_EQ(sd.training.max_shift, 32);
}

}  // namespace
}  // namespace stamina::worker
