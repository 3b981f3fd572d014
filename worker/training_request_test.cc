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

}  // namespace
}  // namespace stamina::worker
