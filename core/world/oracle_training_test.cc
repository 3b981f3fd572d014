#include "core/world/oracle_training.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "core/io/state_dict.h"
#include "core/torch_runtime.h"
#include "core/world/oracle.h"
#include "core/world/renderer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

TEST(DrawOracleSceneTest, DeterministicAndLabelledForItsFamilyOnly) {
  int families[3] = {0, 0, 0};
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const OracleScene a = DrawOracleScene(seed);
    const OracleScene b = DrawOracleScene(seed);
    ASSERT_EQ(a.image, b.image);
    ASSERT_EQ(a.labels.value, b.labels.value);
    ASSERT_EQ(a.image.width, kDefaultImageSize);
    const SceneKind family =
        static_cast<SceneKind>(a.labels[OracleHead::kFamily]);
    ++families[static_cast<int>(family)];
    for (int h = 0; h < kNumOracleHeads; ++h) {
      const OracleHead head = static_cast<OracleHead>(h);
      EXPECT_EQ(a.labels[head] >= 0, HeadAppliesTo(head, family));
    }
  }
  for (int n : families) EXPECT_GT(n, 30);
}

TEST(TrainAttributeOracleTest, SameSeedSameWeights) {
  const OracleTrainingOptions options{
      .steps = 3, .batch = 4, .seed = 5, .config = {.width = 4,
                                                    .feature_dim = 8}};
  STAMINA_ASSERT_OK_AND_ASSIGN(auto a, TrainAttributeOracle(options));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto b, TrainAttributeOracle(options));
  OracleTrainingOptions other = options;
  other.seed = 6;
  STAMINA_ASSERT_OK_AND_ASSIGN(auto c, TrainAttributeOracle(other));
  const auto wa = StateDict(*a->mutable_net());
  const auto wb = StateDict(*b->mutable_net());
  const auto wc = StateDict(*c->mutable_net());
  ASSERT_EQ(wa.size(), wb.size());
  bool any_differs_from_c = false;
  for (const auto& [key, tensor] : wa) {
    EXPECT_TRUE(torch::equal(tensor, wb.at(key))) << key;
    any_differs_from_c |= !torch::equal(tensor, wc.at(key));
  }
  EXPECT_TRUE(any_differs_from_c);
}

TEST(TrainAttributeOracleTest, BadOptionsAreInvalidArgument) {
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_THAT(TrainAttributeOracle({.steps = 0}), StatusCodeIs(kInvalid));
  EXPECT_THAT(TrainAttributeOracle({.batch = 0}), StatusCodeIs(kInvalid));
  EXPECT_THAT(TrainAttributeOracle({.lr = -1}), StatusCodeIs(kInvalid));
  EXPECT_THAT(TrainAttributeOracle({.config = {.width = -2}}),
              StatusCodeIs(kInvalid));
}

// One short training shared by the accuracy tests (the expensive part).
class TrainedOracleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One thread: with the 2 cores shared by parallel tests and builds,
    // OpenMP barriers over 2 threads slowed this test 15x (18s -> 278s).
    ASSERT_TRUE(ConfigureTorchRuntime({.threads = 1}).ok());
    const auto start = std::chrono::steady_clock::now();
    auto oracle = TrainAttributeOracle(kOptions);
    ASSERT_TRUE(oracle.ok()) << oracle.status();
    oracle_ = oracle->release();
    std::printf("trained oracle: %d steps x %d, width %d, %.1fs, %d threads\n",
                kOptions.steps, kOptions.batch, kOptions.config.width,
                std::chrono::duration<double>(
                    std::chrono::steady_clock::now() - start)
                    .count(),
                at::get_num_threads());
  }
  static void TearDownTestSuite() {
    delete oracle_;
    oracle_ = nullptr;
  }

  static constexpr OracleTrainingOptions kOptions{
      .steps = 500, .batch = 32, .seed = 1, .config = {.width = 8}};
  static AttributeOracle* oracle_;
};
AttributeOracle* TrainedOracleTest::oracle_ = nullptr;

TEST_F(TrainedOracleTest, HeldOutAccuracy) {
  ASSERT_NE(oracle_, nullptr);
  STAMINA_ASSERT_OK_AND_ASSIGN(
      OracleEvaluation eval,
      EvaluateOracle(*oracle_, HeldOutOracleScenes(kOptions.seed, 600)));
  std::map<OracleHead, double> accuracy;
  for (int h = 0; h < kNumOracleHeads; ++h) {
    const OracleHead head = static_cast<OracleHead>(h);
    accuracy[head] = eval.Accuracy(head);
    std::printf("  %-15s %.3f  (n=%d, chance %.3f)\n",
                std::string(HeadName(head)).c_str(), accuracy[head],
                eval.total[h], 1.0 / HeadSize(head));
  }
  EXPECT_GE(accuracy[OracleHead::kFamily], 0.9);
  EXPECT_GE(accuracy[OracleHead::kBackground], 0.9);
  // Colour attributes are learned first; shape attributes (eye shape,
  // mouth) need longer runs (train_oracle), so only "above chance" here.
  EXPECT_GE(accuracy[OracleHead::kHairColor], 0.6);
  EXPECT_GE(accuracy[OracleHead::kSkin], 0.6);
  double face_mean = 0;
  double chance_mean = 0;
  int face_heads = 0;
  for (int h = 0; h < kNumOracleHeads; ++h) {
    const OracleHead head = static_cast<OracleHead>(h);
    if (!HeadAppliesTo(head, SceneKind::kFace) ||
        HeadAppliesTo(head, SceneKind::kShape)) {
      continue;
    }
    face_mean += accuracy[head];
    chance_mean += 1.0 / HeadSize(head);
    ++face_heads;
  }
  face_mean /= face_heads;
  chance_mean /= face_heads;
  std::printf("  face attributes: mean %.3f (chance %.3f)\n", face_mean,
              chance_mean);
  EXPECT_GE(face_mean, chance_mean + 0.25);
}

TEST_F(TrainedOracleTest, MatchesReservedFaces) {
  ASSERT_NE(oracle_, nullptr);
  constexpr int kIdentities = 10;
  constexpr int kRendersEach = 5;
  std::vector<AttributeLabels> candidates;
  std::vector<Image> images;
  std::vector<int> truth;
  for (int k = 0; k < kIdentities; ++k) {
    const FaceIdentity face =
        FaceIdentity::FromSeed(kReservedIdentitySeedStart + k);
    candidates.push_back(LabelsOf(face));
    for (int r = 0; r < kRendersEach; ++r) {
      images.push_back(RenderFace(
          face, RenderParams::FromSeed(1000 * k + r, kDefaultImageSize,
                                       ContrastingBackgrounds(face))));
      truth.push_back(k);
    }
  }
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<int> match,
                               oracle_->MatchIdentities(images, candidates));
  int correct = 0;
  double score = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    correct += match[i] == truth[i] ? 1 : 0;
    STAMINA_ASSERT_OK_AND_ASSIGN(
        std::vector<double> s,
        oracle_->AttributeScores({images[i]}, candidates[truth[i]]));
    score += s[0];
  }
  const double accuracy = static_cast<double>(correct) / images.size();
  std::printf("  identity matching among %d reserved faces: %.3f "
              "(chance %.3f); mean attribute score %.3f\n",
              kIdentities, accuracy, 1.0 / kIdentities, score / images.size());
  EXPECT_GE(accuracy, 0.6);
}

}  // namespace
}  // namespace stamina::core
