#include "bench/continual/seed_statistics.h"

#include <cmath>

#include "gtest/gtest.h"

namespace stamina::bench {
namespace {

TEST(StudentT975Test, MatchesTheTableAndTendsToTheNormalQuantile) {
  EXPECT_DOUBLE_EQ(StudentT975(1), 12.706);
  EXPECT_DOUBLE_EQ(StudentT975(2), 4.303);
  EXPECT_DOUBLE_EQ(StudentT975(30), 2.042);
  EXPECT_NEAR(StudentT975(60), 2.000, 0.003);
  EXPECT_NEAR(StudentT975(120), 1.980, 0.003);
  EXPECT_NEAR(StudentT975(100000), 1.960, 0.001);
  EXPECT_DOUBLE_EQ(StudentT975(0), 12.706);  // clamped to one degree
}

TEST(MeanIntervalTest, UsesTheSampleDeviationAndTheTQuantile) {
  // Mean 2, sample sd 1, n = 3: half width 4.303 / sqrt(3).
  const Interval i = MeanInterval({1, 2, 3});
  EXPECT_DOUBLE_EQ(i.mean, 2);
  EXPECT_NEAR(i.half_width, 4.303 / std::sqrt(3.0), 1e-12);
  EXPECT_EQ(i.count, 3);
  EXPECT_NEAR(i.low(), 2 - 2.4843, 1e-4);
}

TEST(MeanIntervalTest, OneValueHasNoWidthAndNoneHasNoMean) {
  EXPECT_EQ(MeanInterval({0.4}).half_width, 0);
  EXPECT_EQ(MeanInterval({0.4}).mean, 0.4);
  EXPECT_EQ(MeanInterval({}).count, 0);
}

TEST(ComparePairedTest, BetterOnlyWhenThePairedIntervalExcludesZero) {
  // Differences 0.05, 0.06, 0.04: mean 0.05, sd 0.01, interval [0.025, 0.075].
  PairedComparison c = ComparePaired({0.55, 0.46, 0.64}, {0.50, 0.40, 0.60}, true);
  EXPECT_EQ(c.verdict, Verdict::kBetter);
  EXPECT_NEAR(c.difference.mean, 0.05, 1e-12);
  // The same numbers where lower is better: worse.
  EXPECT_EQ(ComparePaired({0.55, 0.46, 0.64}, {0.50, 0.40, 0.60}, false).verdict, Verdict::kWorse);
  // Swapped: we are lower, and lower is better.
  EXPECT_EQ(ComparePaired({0.50, 0.40, 0.60}, {0.55, 0.46, 0.64}, false).verdict, Verdict::kBetter);
}

TEST(ComparePairedTest, AHigherMeanWithNoisyDifferencesIsATie) {
  // Ours is higher on average (+0.03) but one seed goes the other way.
  const PairedComparison c = ComparePaired({0.60, 0.52, 0.47}, {0.50, 0.50, 0.50}, true);
  EXPECT_GT(c.difference.mean, 0);
  EXPECT_LT(c.difference.low(), 0);
  EXPECT_EQ(c.verdict, Verdict::kTie);
}

TEST(ComparePairedTest, PairingRemovesTheSeedsOwnSpread) {
  // Unpaired, these intervals overlap widely; every paired difference is +0.01.
  const std::vector<double> theirs = {0.2, 0.5, 0.8};
  const std::vector<double> ours = {0.21, 0.51, 0.81};
  EXPECT_LT(MeanInterval(ours).low(), MeanInterval(theirs).high());
  EXPECT_EQ(ComparePaired(ours, theirs, true).verdict, Verdict::kBetter);
}

TEST(ComparePairedTest, OneSeedGivesNoVerdictAndTheShorterListCounts) {
  EXPECT_EQ(ComparePaired({0.9}, {0.1}, true).verdict, Verdict::kOneSeed);
  EXPECT_EQ(ComparePaired({0.9, 0.8, 0.7}, {0.1}, true).verdict, Verdict::kOneSeed);
  EXPECT_EQ(VerdictName(Verdict::kOneSeed), "one seed");
  EXPECT_EQ(VerdictName(Verdict::kTie), "tie");
}

TEST(FormatIntervalTest, ShowsTheHalfWidthWhenThereIsOne) {
  EXPECT_EQ(FormatInterval(MeanInterval({1, 2, 3}), 2), "2.00 ± 2.48");
  EXPECT_EQ(FormatInterval(MeanInterval({0.5})), "0.500");
}

}  // namespace
}  // namespace stamina::bench
