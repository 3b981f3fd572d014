#include "server/version_comparison.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "images/png_codec.h"

namespace stamina::server {
namespace {

using ::testing::Not;

std::string Png(uint8_t value, int side = 4) {
  images::DecodedImage image{.width = side, .height = side};
  image.rgb.assign(static_cast<size_t>(side) * side * 3, value);
  return *images::EncodePng(image);
}

TEST(DefaultComparisonPromptsTest, OnePromptPerTokenOfEitherVersionInOrder) {
  std::vector<ComparisonPrompt> prompts =
      DefaultComparisonPrompts({"<anna>", "<mill>"}, {"<anna>", "<rex>"});
  ASSERT_EQ(prompts.size(), 3u);
  EXPECT_EQ(prompts[0].prompt, "a photo of <anna>");
  EXPECT_EQ(prompts[1].token, "<mill>");
  EXPECT_EQ(prompts[2].token, "<rex>");
  std::vector<std::string> many;
  for (int i = 0; i < 20; ++i) many.push_back("<c" + std::to_string(i) + ">");
  EXPECT_EQ(DefaultComparisonPrompts(many, {}).size(), static_cast<size_t>(kMaxComparisonPrompts));
}

TEST(PixelDriftTest, ZeroForTheSameImagesAndTheRmsOtherwise) {
  EXPECT_THAT(PixelDrift({Png(10), Png(200)}, {Png(10), Png(200)}), IsOkAndHolds(0.0));
  // Black against white is 1; against mid-grey (51 / 255 = 0.2) is 0.2.
  EXPECT_THAT(PixelDrift({Png(0)}, {Png(255)}), IsOkAndHolds(1.0));
  STAMINA_ASSERT_OK_AND_ASSIGN(double drift, PixelDrift({Png(0), Png(0)}, {Png(51), Png(0)}));
  EXPECT_NEAR(drift, 0.1, 1e-9);
  EXPECT_THAT(PixelDrift({Png(0)}, {Png(0, 8)}), StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PixelDrift({Png(0)}, {}), StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PixelDrift({"not a png"}, {Png(0)}), Not(IsOk()));
}

}  // namespace
}  // namespace stamina::server
