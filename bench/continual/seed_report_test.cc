#include "bench/continual/seed_report.h"

#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A continual.json with methods {label: (A_N, F_final)}; P_t ramps from
// p_first (first 10) to p_last (last 10) over 20 tasks.
std::string Json(uint64_t seed, const std::vector<std::tuple<std::string, double, double>>& methods,
                 double p_first = 0.8, double p_last = 0.8, int steps = 150) {
  nlohmann::json json = {{"family", "mixed"},
                         {"concepts", 20},
                         {"machine", "test"},
                         {"command_line", "bazel run //bench:continual -- --seed=" +
                                              std::to_string(seed) + " --concepts=20"}};
  for (const auto& [label, a_n, f_final] : methods) {
    std::vector<double> p(10, p_first);
    p.insert(p.end(), 10, p_last);
    json["methods"].push_back({{"label", label},
                               {"steps_per_concept", steps},
                               {"A_N", a_n},
                               {"F_final", f_final},
                               {"F_incremental", f_final / 2},
                               {"final_identity", a_n},
                               {"plasticity", p},
                               {"folded_over_base", 1.0},
                               {"drift_seconds", {1.0, 2.0}},
                               {"drift_overhead", 0.15},
                               {"drift_forgetting_correlation", 0.6},
                               {"drift_final_row_mean", 0.02}});
  }
  return json.dump();
}

std::vector<SeedRun> Runs(const std::vector<std::string>& texts) {
  std::vector<SeedRun> runs;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto run = ParseSeedRun(texts[i], "run" + std::to_string(i));
    EXPECT_TRUE(run.ok()) << run.status();
    runs.push_back(*run);
  }
  return runs;
}

TEST(SeedReportTest, ParsesTheSeedFromTheCommandLineAndThePlasticityParts) {
  STAMINA_ASSERT_OK_AND_ASSIGN(SeedRun run,
                               ParseSeedRun(Json(7, {{"stamina", 0.7, 0.0}}, 0.8, 0.6), "d"));
  EXPECT_EQ(run.seed, 7u);
  EXPECT_EQ(run.concepts, 20);
  const SeedMethodNumbers& m = run.methods.at("stamina");
  EXPECT_DOUBLE_EQ(m.PlasticityFirst(), 0.8);
  EXPECT_DOUBLE_EQ(m.PlasticityLast(), 0.6);
  EXPECT_DOUBLE_EQ(m.PlasticityRetention(), 0.75);
  // Fewer than 20 tasks: halves.
  EXPECT_EQ(PlasticityWindow(50), 10u);
  EXPECT_EQ(PlasticityWindow(10), 5u);
  EXPECT_EQ(PlasticityWindow(1), 1u);
  EXPECT_THAT(ParseSeedRun("{\"no\": 1}", "d"), StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseSeedRun("not json", "d"), StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST(SeedReportTest, ClearWinMeetsTheTargetsAndSaysBetter) {
  const std::vector<SeedRun> runs = Runs({
      Json(0, {{"stamina", 0.70, 0.010}, {"clora", 0.50, 0.000}, {"lora", 0.40, 0.3}}),
      Json(1, {{"stamina", 0.72, 0.012}, {"clora", 0.51, 0.001}, {"lora", 0.41, 0.3}}),
      Json(2, {{"stamina", 0.71, 0.011}, {"clora", 0.49, 0.002}, {"lora", 0.42, 0.3}}),
  });
  STAMINA_ASSERT_OK_AND_ASSIGN(
      SeedReport report,
      BuildSeedReport(runs, {.ours = "stamina", .baselines = {"clora", "lora"}}));
  EXPECT_EQ(report.json["paired"]["clora"]["A_N"]["verdict"], "better");
  EXPECT_EQ(report.json["paired"]["lora"]["F_final"]["verdict"], "better");
  EXPECT_EQ(report.json["paired"]["clora"]["F_final"]["verdict"], "worse");
  EXPECT_EQ(report.json["targets"]["A_N above clora"], true);
  EXPECT_EQ(report.json["targets"]["F_final within 0.02 of clora"], true);
  EXPECT_EQ(report.json["targets"]["plasticity retention"], true);
  EXPECT_EQ(report.json["targets"]["folded sampling cost"], true);
  EXPECT_THAT(report.markdown, HasSubstr("0.710 ± 0.025"));
  EXPECT_THAT(report.markdown, HasSubstr("| 1 | 0.720 | 0.510 | 0.410 |"));
  EXPECT_THAT(report.markdown,
              HasSubstr("| stamina | 3 | 0.150 ± 0.000 | 0.020 ± 0.000 | 0.60 ± 0.00 |"));
  EXPECT_GT(report.plasticity_chart.width, 0);
}

TEST(SeedReportTest, NoisyLeadIsATieAndOverlappingIntervalsMissTheTarget) {
  const std::vector<SeedRun> runs = Runs({
      Json(0, {{"stamina", 0.60, 0.05}, {"clora", 0.50, 0.0}}, 0.8, 0.5),
      Json(1, {{"stamina", 0.52, 0.05}, {"clora", 0.50, 0.0}}, 0.8, 0.5),
      Json(2, {{"stamina", 0.47, 0.05}, {"clora", 0.50, 0.0}}, 0.8, 0.5),
  });
  STAMINA_ASSERT_OK_AND_ASSIGN(SeedReport report,
                               BuildSeedReport(runs, {.ours = "stamina", .baselines = {"clora"}}));
  EXPECT_EQ(report.json["paired"]["clora"]["A_N"]["verdict"], "tie");
  EXPECT_EQ(report.json["targets"]["A_N above clora"], false);
  EXPECT_EQ(report.json["targets"]["F_final within 0.02 of clora"], false);
  EXPECT_EQ(report.json["targets"]["plasticity retention"], false);
  EXPECT_EQ(report.json["targets"]["folded sampling cost"], true);
  EXPECT_THAT(report.markdown,
              HasSubstr("A_N above clora's with intervals apart: 0.530 ± 0.163 vs 0.500 ± 0.000 "
                        "— **missed**"));
}

TEST(SeedReportTest, HalfTheStepsTargetComparesTheBudgetRunsPairedBySeed) {
  const std::vector<SeedRun> runs = Runs({
      Json(0, {{"stamina", 0.70, 0.0}, {"clora", 0.50, 0.0}}),
      Json(1, {{"stamina", 0.70, 0.0}, {"clora", 0.52, 0.0}}),
  });
  const std::vector<SeedRun> budget = Runs({
      Json(1, {{"stamina", 0.60, 0.0}}, 0.8, 0.8, 75),
      Json(0, {{"stamina", 0.58, 0.0}}, 0.8, 0.8, 75),
  });
  STAMINA_ASSERT_OK_AND_ASSIGN(
      SeedReport report,
      BuildSeedReport(runs, {.ours = "stamina", .baselines = {"clora"}, .budget_runs = budget}));
  EXPECT_EQ(report.json["targets"]["C-LoRA's A_N with half the steps"], true);
  EXPECT_THAT(report.markdown, HasSubstr("with 75 steps per concept (clora's: 150)"));
}

TEST(SeedReportTest, OneSeedDecidesNoIntervalTargetAndABudgetVariantMayShareTheRun) {
  // An early-stopping variant run beside ours, in the same seed's run.
  const std::vector<SeedRun> runs =
      Runs({Json(0, {{"stamina", 0.70, 0.0}, {"stamina-early", 0.60, 0.0}, {"clora", 0.50, 0.0}})});
  std::vector<SeedRun> budget = runs;
  budget[0].methods["stamina-early"].steps_per_concept = 70;
  STAMINA_ASSERT_OK_AND_ASSIGN(SeedReport report,
                               BuildSeedReport(runs, {.ours = "stamina",
                                                      .baselines = {"clora"},
                                                      .budget_runs = budget,
                                                      .ours_budget_label = "stamina-early"}));
  EXPECT_THAT(report.markdown, HasSubstr("— not decided (one seed: no interval)"));
  EXPECT_THAT(report.markdown,
              HasSubstr("stamina-early's A_N with 70 steps per concept (clora's: 150)"));
  EXPECT_EQ(report.json["targets"]["C-LoRA's A_N with half the steps"], false);  // one seed
  EXPECT_THAT(report.markdown, Not(HasSubstr("missed")));
}

TEST(SeedReportTest, MergesTheMethodsOfOneSeedRunInSeparateProcesses) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      std::vector<SeedRun> merged,
      MergeSeedRuns(Runs({Json(0, {{"stamina", 0.7, 0.0}}), Json(1, {{"stamina", 0.6, 0.0}}),
                          Json(0, {{"lora", 0.4, 0.3}})})));
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].seed, 0u);
  EXPECT_EQ(merged[0].methods.size(), 2u);
  EXPECT_EQ(merged[0].directory, "run0+run2");
  EXPECT_EQ(merged[1].methods.size(), 1u);
  EXPECT_THAT(MergeSeedRuns(Runs({Json(0, {{"lora", 0.4, 0.3}}), Json(0, {{"lora", 0.4, 0.3}})})),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST(SeedReportTest, AMethodMissingFromSomeSeedsIsComparedOverTheSeedsItHas) {
  const std::vector<SeedRun> runs = Runs({
      Json(0, {{"stamina", 0.70, 0.0}, {"clora", 0.50, 0.0}, {"lora", 0.40, 0.3}}),
      Json(1, {{"stamina", 0.72, 0.0}, {"clora", 0.51, 0.0}}),
      Json(2, {{"stamina", 0.71, 0.0}}),
  });
  STAMINA_ASSERT_OK_AND_ASSIGN(
      SeedReport report,
      BuildSeedReport(runs, {.ours = "stamina", .baselines = {"clora", "lora"}}));
  EXPECT_EQ(report.json["methods"]["stamina"]["A_N"]["per_seed"].size(), 3u);
  EXPECT_EQ(report.json["methods"]["clora"]["A_N"]["per_seed"].size(), 2u);
  EXPECT_EQ(report.json["paired"]["clora"]["A_N"]["verdict"], "better");  // seeds 0 and 1
  EXPECT_EQ(report.json["paired"]["lora"]["A_N"]["verdict"], "one seed");
  EXPECT_EQ(report.json["targets"]["A_N above lora"], false);  // one seed: no interval
  EXPECT_THAT(report.markdown, HasSubstr("| stamina | 3 | 150 |"));
  EXPECT_THAT(report.markdown, HasSubstr("| lora | 1 | 150 |"));
  EXPECT_THAT(report.markdown, HasSubstr("| 2 | 0.710 | — | — |"));
}

TEST(SeedReportTest, RefusesMixedRunsRepeatedSeedsAndMissingMethods) {
  const std::string a = Json(0, {{"stamina", 0.7, 0.0}, {"clora", 0.5, 0.0}});
  EXPECT_THAT(BuildSeedReport({}, {.ours = "stamina"}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BuildSeedReport(Runs({a, a}), {.ours = "stamina", .baselines = {"clora"}}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BuildSeedReport(Runs({a}), {.ours = "stamina", .baselines = {"lora"}}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  std::vector<SeedRun> runs = Runs({a, Json(1, {{"stamina", 0.7, 0.0}, {"clora", 0.5, 0.0}})});
  runs[1].concepts = 10;
  EXPECT_THAT(BuildSeedReport(runs, {.ours = "stamina", .baselines = {"clora"}}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace stamina::bench
