#include "core/world/oracle.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "core/world/renderer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::HasSubstr;

constexpr AttributeOracleConfig kSmall{.width = 4, .feature_dim = 16};

std::vector<Image> SomeRenders(int n) {
  std::vector<Image> images;
  for (int i = 0; i < n; ++i) images.push_back(PretrainingSample(i).image);
  return images;
}

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

TEST(OracleHeadsTest, SizesFollowTheEnums) {
  EXPECT_EQ(HeadSize(OracleHead::kFamily), 3);
  EXPECT_EQ(HeadSize(OracleHead::kBackground), kNumColors);
  EXPECT_EQ(HeadSize(OracleHead::kHairColor), kNumHairColors);
  EXPECT_EQ(HeadSize(OracleHead::kLandmarkCount), kMaxLandmarkCount);
  EXPECT_EQ(HeadName(OracleHead::kEyeColor), "eye_color");
  int total = 0;
  for (int h = 0; h < kNumOracleHeads; ++h) {
    EXPECT_EQ(HeadOffset(static_cast<OracleHead>(h)), total);
    total += HeadSize(static_cast<OracleHead>(h));
  }
  EXPECT_EQ(TotalHeadClasses(), total);
  EXPECT_TRUE(HeadAppliesTo(OracleHead::kBackground, SceneKind::kFace));
  EXPECT_TRUE(HeadAppliesTo(OracleHead::kMouth, SceneKind::kFace));
  EXPECT_FALSE(HeadAppliesTo(OracleHead::kMouth, SceneKind::kShape));
  EXPECT_FALSE(HeadAppliesTo(OracleHead::kAccent, SceneKind::kFace));
}

TEST(OracleLabelsTest, LabelsOfIdentitiesSetOnlyTheirFamilysHeads) {
  const FaceIdentity face = FaceIdentity::FromSeed(kReservedIdentitySeedStart);
  const AttributeLabels labels = WithBackground(LabelsOf(face), Color::kCyan);
  for (int h = 0; h < kNumOracleHeads; ++h) {
    const OracleHead head = static_cast<OracleHead>(h);
    EXPECT_EQ(labels[head] >= 0, HeadAppliesTo(head, SceneKind::kFace))
        << HeadName(head);
  }
  EXPECT_EQ(labels[OracleHead::kBackground], static_cast<int>(Color::kCyan));
  AttributePrediction p;
  p.label = labels;
  EXPECT_EQ(p.face(), face);
  EXPECT_EQ(p.family(), SceneKind::kFace);

  const LandmarkIdentity landmark = LandmarkIdentity::FromSeed(7);
  p.label = LabelsOf(landmark);
  EXPECT_EQ(p.landmark(), landmark);
  EXPECT_EQ(LabelsOf(ShapeSpec{})[OracleHead::kBackground], -1);
}

TEST(AttributeOracleTest, CreateIsDeterministicAndPredictsEveryHead) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto a, AttributeOracle::Create(kSmall, 3));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto b, AttributeOracle::Create(kSmall, 3));
  const std::vector<Image> images = SomeRenders(5);
  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor fa, a->Features(images));
  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor fb, b->Features(images));
  EXPECT_TRUE(torch::equal(fa, fb));
  ASSERT_EQ(fa.sizes(), (std::vector<int64_t>{5, 16}));
  EXPECT_TRUE(torch::allclose(fa.norm(2, 1), torch::ones({5})));

  STAMINA_ASSERT_OK_AND_ASSIGN(auto predictions, a->Predict(images));
  ASSERT_EQ(predictions.size(), 5u);
  for (int h = 0; h < kNumOracleHeads; ++h) {
    EXPECT_GE(predictions[0].label.value[h], 0);
    EXPECT_LT(predictions[0].label.value[h],
              HeadSize(static_cast<OracleHead>(h)));
    EXPECT_GT(predictions[0].confidence[h], 0.0f);
    EXPECT_LE(predictions[0].confidence[h], 1.0f);
  }
}

TEST(AttributeOracleTest, SaveThenLoadGivesTheSamePredictions) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto oracle, AttributeOracle::Create(kSmall, 9));
  const std::string path = TempPath("oracle.safetensors");
  STAMINA_ASSERT_OK(oracle->Save(path));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto loaded, AttributeOracle::Load(path));
  EXPECT_EQ(loaded->config().width, kSmall.width);
  EXPECT_EQ(loaded->config().feature_dim, kSmall.feature_dim);
  const std::vector<Image> images = SomeRenders(6);
  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor f0, oracle->Features(images));
  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor f1, loaded->Features(images));
  EXPECT_TRUE(torch::equal(f0, f1));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto p0, oracle->Predict(images));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto p1, loaded->Predict(images));
  for (size_t i = 0; i < images.size(); ++i) {
    EXPECT_EQ(p0[i].label.value, p1[i].label.value);
    EXPECT_EQ(p0[i].confidence, p1[i].confidence);
  }
}

TEST(AttributeOracleTest, LoadRejectsMissingAndForeignFiles) {
  EXPECT_FALSE(AttributeOracle::Load(TempPath("absent.safetensors")).ok());
  const std::string path = TempPath("junk.safetensors");
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("not a safetensors file", f);
  std::fclose(f);
  EXPECT_THAT(AttributeOracle::Load(path),
              StatusCodeIs(absl::StatusCode::kDataLoss));
}

TEST(AttributeOracleTest, BadInputsAreInvalidArgument) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto oracle, AttributeOracle::Create(kSmall, 1));
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_THAT(oracle->Predict(std::vector<Image>{}),
              StatusIs(kInvalid, HasSubstr("no images")));
  EXPECT_THAT(oracle->Features(std::vector<Image>{Image(64, 64)}),
              StatusIs(kInvalid, HasSubstr("64x64")));
  std::vector<Image> mixed = SomeRenders(2);
  mixed.push_back(Image(32, 16));
  EXPECT_THAT(oracle->Predict(mixed), StatusCodeIs(kInvalid));
  Image truncated(32, 32);
  truncated.pixels.resize(10);
  EXPECT_THAT(oracle->Predict(std::vector<Image>{truncated}),
              StatusCodeIs(kInvalid));
  EXPECT_THAT(oracle->Predict(torch::zeros({0, 3, 32, 32})),
              StatusCodeIs(kInvalid));
  EXPECT_THAT(oracle->Features(torch::zeros({2, 1, 32, 32})),
              StatusCodeIs(kInvalid));
  EXPECT_THAT(oracle->LogProbs(torch::zeros({3, 32, 32})),
              StatusCodeIs(kInvalid));
  EXPECT_THAT(oracle->Predict(torch::zeros({1, 3, 32, 32}, torch::kInt64)),
              StatusCodeIs(kInvalid));
  EXPECT_THAT(oracle->Features(torch::Tensor()), StatusCodeIs(kInvalid));

  const std::vector<Image> images = SomeRenders(2);
  EXPECT_THAT(oracle->MatchIdentities(images, {}), StatusCodeIs(kInvalid));
  AttributeLabels bad;
  bad[OracleHead::kMouth] = kNumMouths;
  EXPECT_THAT(oracle->MatchIdentities(images, {bad}), StatusCodeIs(kInvalid));
  EXPECT_THAT(oracle->AttributeScores(images, AttributeLabels()),
              StatusCodeIs(kInvalid));
  EXPECT_THAT(oracle->MatchIdentities({}, {LabelsOf(FaceIdentity())}),
              StatusCodeIs(kInvalid));

  EXPECT_THAT(AttributeOracle::Create({.width = 0}, 0), StatusCodeIs(kInvalid));
  EXPECT_THAT(AttributeOracle::Create({.image_size = 30}, 0),
              StatusCodeIs(kInvalid));
}

TEST(AttributeOracleTest, MatchAndScoreHaveOneEntryPerImage) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto oracle, AttributeOracle::Create(kSmall, 2));
  const std::vector<Image> images = SomeRenders(4);
  std::vector<AttributeLabels> candidates;
  for (uint64_t k = 0; k < 3; ++k) {
    candidates.push_back(
        LabelsOf(FaceIdentity::FromSeed(kReservedIdentitySeedStart + k)));
  }
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<int> match,
                               oracle->MatchIdentities(images, candidates));
  ASSERT_EQ(match.size(), 4u);
  for (int m : match) {
    EXPECT_GE(m, 0);
    EXPECT_LT(m, 3);
  }
  // The same candidate twice: ties go to the lower index.
  STAMINA_ASSERT_OK_AND_ASSIGN(
      match, oracle->MatchIdentities(images, {candidates[1], candidates[1]}));
  EXPECT_THAT(match, ::testing::Each(0));

  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<double> scores,
                               oracle->AttributeScores(images, candidates[0]));
  ASSERT_EQ(scores.size(), 4u);
  for (double s : scores) {
    EXPECT_GE(s, 0.0);
    EXPECT_LE(s, 1.0);
  }
}

}  // namespace
}  // namespace stamina::core
