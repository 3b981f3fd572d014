// Correctness of the continual benchmark's pieces: the metrics on matrices
// worked by hand, MMD's basic properties, the concept sequence, the method
// names' switches, and a
// two-concept run end to end on a random test-size model.
#include <cstdlib>
#include <string>

#include "bench/continual/concept_scoring.h"
#include "bench/continual/concept_sequence.h"
#include "bench/continual/continual_metrics.h"
#include "bench/continual/continual_report.h"
#include "bench/continual/continual_run.h"
#include "bench/continual/method_names.h"
#include "common/testing/status_matchers.h"
#include "core/pipelines/base_models.h"
#include "core/world/oracle.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::bench {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DriftForgettingCorrelationTest, PairsEachDriftWithTheOraclesDrop) {
  ScoreMatrix attribute;
  attribute[0] = {{0, 0.9}};
  attribute[1] = {{0, 0.8}, {1, 0.9}};
  attribute[2] = {{0, 0.5}, {1, 0.9}, {2, 0.7}};
  ScoreMatrix drift;  // drops 0.1, 0.4, 0.0: drift rising with them
  drift[1] = {{0, 0.02}};
  drift[2] = {{0, 0.08}, {1, 0.0}};
  int cells = 0;
  EXPECT_NEAR(DriftForgettingCorrelation(drift, attribute, &cells), 1.0, 1e-9);
  EXPECT_EQ(cells, 3);
  drift[2][1] = 0.5;  // a large drift where nothing was forgotten
  EXPECT_LT(DriftForgettingCorrelation(drift, attribute, &cells), 0.5);
  EXPECT_EQ(DriftForgettingCorrelation({}, attribute, &cells), 0);
  EXPECT_EQ(cells, 0);
}

TEST(ContinualMetricsTest, MatchesHandWorkedExample) {
  // Three tasks, every row evaluated.
  ScoreMatrix r;
  r[0] = {{0, 0.9}};
  r[1] = {{0, 0.7}, {1, 0.8}};
  r[2] = {{0, 0.6}, {1, 0.8}, {2, 0.5}};
  const ContinualSummary s = Summarize(r, 3);
  EXPECT_NEAR(s.final_accuracy, (0.6 + 0.8 + 0.5) / 3, 1e-12);
  // CODA-P: ((0.9-0.7)/1 + ((0.7-0.6)+(0.8-0.8))/2) / 2 = (0.2 + 0.05) / 2.
  EXPECT_NEAR(s.forgetting_incremental, 0.125, 1e-12);
  // Final − diagonal: ((0.9-0.6) + (0.8-0.8)) / 2.
  EXPECT_NEAR(s.forgetting_final, 0.15, 1e-12);
  EXPECT_NEAR(s.forgetting_best, 0.15, 1e-12);
  EXPECT_THAT(s.plasticity, ElementsAre(0.9, 0.8, 0.5));
  EXPECT_NEAR(s.plasticity_slope_per_10, 10 * -0.2, 1e-12);
}

TEST(ContinualMetricsTest, PartialRowsUseOnlyFullyEvaluatedRows) {
  ScoreMatrix r;
  r[0] = {{0, 1.0}};
  r[1] = {{1, 0.5}};  // diagonal only
  r[2] = {{0, 0.4}, {1, 0.7}, {2, 0.6}};
  const ContinualSummary s = Summarize(r, 3);
  EXPECT_NEAR(s.forgetting_incremental, 0.6, 1e-12);  // rows 0 → 2 only
  EXPECT_NEAR(s.forgetting_best, ((1.0 - 0.4) + (0.7 - 0.7)) / 2, 1e-12);
  EXPECT_NEAR(s.forgetting_final, ((1.0 - 0.4) + (0.5 - 0.7)) / 2, 1e-12);
}

TEST(MmdTest, ZeroInExpectationForOneDistributionPositiveForTwo) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::nn::functional::normalize(torch::randn({200, 8}));
  const torch::Tensor y = torch::nn::functional::normalize(torch::randn({200, 8}));
  EXPECT_NEAR(UnbiasedMmd(x, y), 0.0, 0.01);
  const torch::Tensor shifted =
      torch::nn::functional::normalize(torch::randn({200, 8}) + 2.0);
  EXPECT_GT(UnbiasedMmd(x, shifted), 0.1);
}

TEST(ConceptSequenceTest, ReservedDeterministicAndCaptioned) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto a, BuildConceptSequence("mixed", 4, 3));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto b, BuildConceptSequence("mixed", 4, 3));
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].family, core::SceneKind::kFace);
  EXPECT_EQ(a[1].family, core::SceneKind::kLandmark);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(core::IsReservedIdentity(a[i].identity_seed));
    EXPECT_EQ(a[i].train_images.size(), 5u);
    EXPECT_EQ(a[i].reference_images.size(), 16u);
    EXPECT_EQ(a[i].train_images[0].pixels, b[i].train_images[0].pixels);
    EXPECT_THAT(a[i].train_captions[0], HasSubstr(a[i].token));
  }
  EXPECT_THAT(BuildConceptSequence("cats", 2, 0), StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST(MethodNamesTest, SwitchesSetTheirFields) {
  const MethodDefaults defaults;
  STAMINA_ASSERT_OK_AND_ASSIGN(
      MethodSpec spec,
      MethodFromName("stamina-project+early+warmup0.25+vrank8+mlp64+rank3+out", defaults));
  EXPECT_EQ(spec.training.early_stop_every, 25);  // a sixth of 150 steps
  EXPECT_EQ(spec.training.early_stop_min_steps, 50);
  EXPECT_DOUBLE_EQ(spec.training.early_stop_min_gain, 0.02);
  EXPECT_DOUBLE_EQ(spec.config.sparsity_warmup, 0.25);
  EXPECT_EQ(spec.config.target_ranks.at("attn2.to_v"), 8);
  EXPECT_EQ(spec.config.rank, 3);
  EXPECT_EQ(spec.config.token_mlp_hidden, 64);
  EXPECT_EQ(spec.config.targets.back(), "attn2.to_out.0");
  EXPECT_EQ(spec.config.context, core::ContextPreservation::kProject);

  // Early stopping follows "half" whichever comes first.
  STAMINA_ASSERT_OK_AND_ASSIGN(spec, MethodFromName("clora-early5+half", defaults));
  EXPECT_EQ(spec.training.steps, 75);
  EXPECT_EQ(spec.training.early_stop_every, 12);
  EXPECT_DOUBLE_EQ(spec.training.early_stop_min_gain, 0.05);
  STAMINA_ASSERT_OK_AND_ASSIGN(spec, MethodFromName("stamina", defaults));
  EXPECT_EQ(spec.training.early_stop_every, 0);
  EXPECT_TRUE(spec.config.target_ranks.empty());

  EXPECT_THAT(MethodFromName("stamina-vrank0", defaults),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("vrank0")));
  EXPECT_THAT(MethodFromName("lora-warmup", defaults),  // LoRA has no mask
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("warmup")));
  EXPECT_THAT(MethodFromName("stamina-warmup2", defaults),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("warmup2")));
}

TEST(ContinualRunTest, TwoConceptsEndToEnd) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/base";
  STAMINA_ASSERT_OK_AND_ASSIGN(core::DiffusionModel base,
                               core::CreateBaseModel(core::kStaminaTestTiny, 1));
  STAMINA_ASSERT_OK(core::SaveDiffusionModel(base, core::kStaminaTestTiny, dir, {}));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto oracle, core::AttributeOracle::Create({}, 1));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto concepts, BuildConceptSequence("faces", 2, 0));
  STAMINA_ASSERT_OK_AND_ASSIGN(
      ConceptScorer scorer,
      ConceptScorer::Create(oracle.get(), &concepts, {.count = 2, .steps = 2}));
  MethodSpec method{.label = "stamina",
                    .config = core::DefaultAdapterConfig(core::AdapterMethod::kStamina)};
  method.training.steps = 2;
  method.training.batch_size = 2;
  std::vector<std::string> lines;
  STAMINA_ASSERT_OK_AND_ASSIGN(
      MethodResult result,
      RunMethod(method, concepts, scorer,
                {.base_model_dir = dir, .eval_every = 1, .timing_repeats = 1},
                [&](const std::string& line) { lines.push_back(line); }));
  EXPECT_EQ(lines.size(), 3u);  // two tasks, then the own-token line
  EXPECT_EQ(result.attribute.size(), 2u);
  EXPECT_EQ(result.attribute.at(1).size(), 2u);
  EXPECT_EQ(result.samples.size(), 2u);
  EXPECT_GT(result.base_sample_ms, 0);
  EXPECT_GT(result.unfolded_sample_ms, 0);
  EXPECT_GT(result.folded_over_base, 0);
  EXPECT_GT(result.unfolded_over_base, 0);
  EXPECT_GT(result.stored_parameters, 0);

  // Resuming from recorded progress reproduces the run's scores.
  const std::string progress = std::string(std::getenv("TEST_TMPDIR")) + "/progress";
  // With the service's forgetting metric (a budget these 2-step tasks can
  // afford), whose references travel in the recorded artifacts.
  ContinualRunOptions resumable{.base_model_dir = dir,
                                .eval_every = 1,
                                .timing_repeats = 1,
                                .progress_dir = progress,
                                .family = "faces",
                                .drift_budget = 100};
  STAMINA_ASSERT_OK_AND_ASSIGN(MethodResult first,
                               RunMethod(method, concepts, scorer, resumable, [](auto&) {}));
  std::vector<std::string> resumed_lines;
  STAMINA_ASSERT_OK_AND_ASSIGN(
      MethodResult resumed,
      RunMethod(method, concepts, scorer, resumable,
                [&](const std::string& line) { resumed_lines.push_back(line); }));
  EXPECT_THAT(resumed_lines, ElementsAre(HasSubstr("resumed after task 2"),
                                         HasSubstr("final reads")));
  EXPECT_EQ(resumed.attribute, first.attribute);
  EXPECT_EQ(resumed.delta_norm, first.delta_norm);
  EXPECT_EQ(resumed.samples.size(), 2u);
  ASSERT_EQ(first.drift.service.count(1), 1u);
  EXPECT_GE(first.drift.service.at(1).at(0), 0.0);
  EXPECT_EQ(first.drift.full.at(1).at(0), first.drift.service.at(1).at(0));
  EXPECT_EQ(first.drift.seconds.size(), 2u);
  EXPECT_EQ(resumed.drift.service, first.drift.service);
  EXPECT_THAT(ReportMarkdown({}, {first}), HasSubstr("Forgetting metric"));
  MethodSpec other = method;
  other.training.steps = 3;
  EXPECT_THAT(RunMethod(other, concepts, scorer, resumable, [](auto&) {}),
              StatusCodeIs(absl::StatusCode::kFailedPrecondition));

  ReportContext context{.family = "faces", .concepts = 2, .base_model = dir};
  STAMINA_ASSERT_OK(WriteContinualReport(std::string(std::getenv("TEST_TMPDIR")), context,
                                         {result}));
  EXPECT_THAT(ReportMarkdown(context, {result}), HasSubstr("| stamina | 2 |"));
}

}  // namespace
}  // namespace stamina::bench
