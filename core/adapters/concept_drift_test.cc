// The forgetting metric's pieces: prompts, thumbnails, the reference kept in
// the artifact, and the drift itself on the shipped model (the same model
// drifts 0; another subject at the same seeds drifts far).
#include "core/adapters/concept_drift.h"

#include <cstdlib>
#include <string>

#include "common/testing/status_matchers.h"
#include "core/adapters/adapter_artifact.h"
#include "core/pipelines/base_models.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::core {
namespace {

using ::testing::ElementsAre;

std::string ShippedModelDir() {
  return std::string(std::getenv("TEST_SRCDIR")) + "/stamina/models/stamina-tiny-v1";
}

TEST(DriftPromptsTest, TheGenericPromptThenTheUsersOwnPhrasing) {
  EXPECT_THAT(DriftPrompts("<anna>", {}), ElementsAre("a photo of <anna>"));
  EXPECT_THAT(DriftPrompts("<anna>", {"a photo of {}"}), ElementsAre("a photo of <anna>"));
  EXPECT_THAT(DriftPrompts("<anna>", {"{} on a red background", "x {}"}),
              ElementsAre("a photo of <anna>", "<anna> on a red background"));
}

TEST(ThumbnailTest, BoxFiltersDownToTheLongerSide) {
  Image image(128, 64, {0, 0, 0});
  for (int x = 0; x < 128; ++x) {
    for (int y = 0; y < 64; ++y) {
      if (x % 2 == 0) image.pixels[(y * 128 + x) * 3] = 200;  // red in every other column
    }
  }
  const Image thumbnail = Thumbnail(image, 64);
  EXPECT_EQ(thumbnail.width, 64);
  EXPECT_EQ(thumbnail.height, 32);
  EXPECT_EQ(thumbnail.pixels[0], 100);  // the mean of 200, 0, 200, 0
  EXPECT_EQ(thumbnail.pixels[1], 0);
  EXPECT_EQ(Thumbnail(image, 128).width, 128);
}

AdapterArtifact ArtifactWithReference(int images) {
  AdapterArtifact artifact;
  artifact.token = "<anna>";
  artifact.token_id = 7;
  artifact.token_row = torch::ones({4});
  DriftReference reference{.prompts = {"a photo of <anna>"},
                           .seed = 3,
                           .images_per_prompt = images,
                           .steps = 12,
                           .guidance = 5};
  for (int i = 0; i < images; ++i) reference.images.push_back(Image(4, 3, {10, 20, uint8_t(i)}));
  artifact.drift_reference = reference;
  return artifact;
}

TEST(DriftReferenceTest, TravelsWithTheArtifact) {
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string bytes,
                               SerializeAdapterArtifact(ArtifactWithReference(2)));
  STAMINA_ASSERT_OK_AND_ASSIGN(AdapterArtifact parsed, ParseAdapterArtifact(bytes));
  ASSERT_TRUE(parsed.drift_reference.has_value());
  const DriftReference& r = *parsed.drift_reference;
  EXPECT_THAT(r.prompts, ElementsAre("a photo of <anna>"));
  EXPECT_EQ(r.seed, 3);
  EXPECT_EQ(r.images_per_prompt, 2);
  EXPECT_EQ(r.steps, 12);
  EXPECT_EQ(r.guidance, 5.0f);
  ASSERT_EQ(r.images.size(), 2u);
  EXPECT_EQ(r.images[1].width, 4);
  EXPECT_EQ(r.images[1].height, 3);
  EXPECT_EQ(r.images[1].pixels, Image(4, 3, {10, 20, 1}).pixels);
  EXPECT_TRUE(parsed.metadata.empty());  // not left among the caller's entries
  // An artifact without one parses without one.
  AdapterArtifact plain = ArtifactWithReference(1);
  plain.drift_reference.reset();
  STAMINA_ASSERT_OK_AND_ASSIGN(bytes, SerializeAdapterArtifact(plain));
  STAMINA_ASSERT_OK_AND_ASSIGN(parsed, ParseAdapterArtifact(bytes));
  EXPECT_FALSE(parsed.drift_reference.has_value());
}

TEST(DriftReferenceTest, RefusesAReferenceWhoseImagesDoNotMatchItsPrompts) {
  AdapterArtifact artifact = ArtifactWithReference(2);
  artifact.drift_reference->images.pop_back();
  EXPECT_THAT(SerializeAdapterArtifact(artifact), StatusCodeIs(absl::StatusCode::kInvalidArgument));
  // Metadata naming a reference whose images are gone is data loss.
  artifact = ArtifactWithReference(1);
  artifact.drift_reference.reset();
  artifact.metadata["drift_reference"] = "{\"prompts\": [\"x\"]}";
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string bytes, SerializeAdapterArtifact(artifact));
  EXPECT_THAT(ParseAdapterArtifact(bytes), StatusCodeIs(absl::StatusCode::kDataLoss));
}

TEST(ConceptDriftTest, TheSameModelDriftsZeroAndAnotherSubjectDriftsFar) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, LoadDiffusionModel(ShippedModelDir()));
  const DriftProbeSettings settings;
  STAMINA_ASSERT_OK_AND_ASSIGN(
      DriftReference face,
      SampleDriftReference(model, {"a photo of a face with black short hair"}, settings));
  ASSERT_EQ(face.images.size(), 2u);
  EXPECT_THAT(MeasureDrift(model, face), IsOkAndHolds(0.0));
  STAMINA_ASSERT_OK_AND_ASSIGN(
      DriftReference pyramid,
      SampleDriftReference(model, {"a photo of a pyramid on a green background"}, settings));
  STAMINA_ASSERT_OK_AND_ASSIGN(double far, ImageDrift(face.images, pyramid.images));
  EXPECT_GT(far, 0.15);
  // A face with other hair is another subject too: the distance is of
  // pixels, not of meaning (it says that a concept changed, not into what).
  STAMINA_ASSERT_OK_AND_ASSIGN(
      DriftReference blond,
      SampleDriftReference(model, {"a photo of a face with blond short hair"}, settings));
  STAMINA_ASSERT_OK_AND_ASSIGN(double other_hair, ImageDrift(face.images, blond.images));
  EXPECT_GT(other_hair, 0.15);
  std::printf("drift: same model 0, blond hair %.3f, a pyramid %.3f\n", other_hair, far);
}

}  // namespace
}  // namespace stamina::core
