#include "worker/drift_probes.h"

#include <algorithm>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::worker {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(PlanDriftTest, SpendsAtMostTheBudgetInUNetPasses) {
  // Training 150 steps x 4 images x 3 = 1800 passes; 20% = 360; one concept's
  // drift = 4 images x 12 steps x 2 = 96: the reference and 2 earlier (288).
  const DriftCost cost{
      .training_steps = 150, .batch_size = 4, .probe_images = 4, .probe_steps = 12};
  DriftPlan plan = PlanDrift(cost, 0.2, 10);
  EXPECT_TRUE(plan.reference);
  EXPECT_EQ(plan.earlier, 2);
  EXPECT_LE((1 + plan.earlier) * 96, 0.2 * 1800);
  // Never more than there are earlier concepts.
  EXPECT_EQ(PlanDrift(cost, 0.2, 1).earlier, 1);
  EXPECT_EQ(PlanDrift(cost, 0.2, 0).earlier, 0);
  // A budget of 0 turns it off; a short job affords nothing.
  EXPECT_FALSE(PlanDrift(cost, 0, 10).reference);
  EXPECT_FALSE(
      PlanDrift({.training_steps = 10, .batch_size = 1, .probe_images = 4, .probe_steps = 12}, 0.2,
                10)
          .reference);
}

TEST(DriftRotationTest, MeasuresEveryEarlierConceptWhenTheyFit) {
  EXPECT_THAT(DriftRotation(0, 3), IsEmpty());
  EXPECT_THAT(DriftRotation(2, 3), ElementsAre(0, 1));
  EXPECT_THAT(DriftRotation(5, 0), IsEmpty());
}

TEST(DriftRotationTest, ConsecutiveVersionsCoverTheLineage) {
  // With 2 per version, every concept of a 20-concept lineage is measured
  // within the 10 versions that follow it.
  std::set<size_t> seen;
  for (size_t earlier = 20; earlier < 30; ++earlier) {
    const std::vector<size_t> picked = DriftRotation(earlier, 2);
    ASSERT_EQ(picked.size(), 2u);
    for (size_t i : picked) {
      EXPECT_LT(i, earlier);
      seen.insert(i);
    }
    EXPECT_NE(picked[0], picked[1]);
  }
  for (size_t i = 0; i < 20; ++i) EXPECT_TRUE(seen.count(i)) << "concept " << i;
  // At most `count` whatever the lineage's length.
  for (size_t earlier = 1; earlier < 200; ++earlier) {
    for (int count = 1; count < 6; ++count) {
      EXPECT_EQ(DriftRotation(earlier, count).size(),
                std::min(earlier, static_cast<size_t>(count)));
    }
  }
}

TEST(ChooseDriftTest, RotatesOverTheConceptsThatHaveAReference) {
  const DriftCost cost{
      .training_steps = 150, .batch_size = 4, .probe_images = 4, .probe_steps = 12};
  // 0.2 of 1800 passes = 360 = 3.75 concepts of 96: the reference and 2 earlier.
  const DriftChoice choice = ChooseDrift(cost, 0.2, {true, false, true, true, true});
  EXPECT_TRUE(choice.reference);
  ASSERT_EQ(choice.measured.size(), 2u);
  for (size_t i : choice.measured) EXPECT_NE(i, 1u) << "concept 1 has no reference";
  // The same picks as the rotation over the measurable concepts {0, 2, 3, 4}.
  const std::vector<size_t> rotation = DriftRotation(4, 2);
  const std::vector<size_t> measurable = {0, 2, 3, 4};
  EXPECT_EQ(choice.measured,
            (std::vector<size_t>{measurable[rotation[0]], measurable[rotation[1]]}));
  EXPECT_FALSE(ChooseDrift(cost, 0, {true}).reference);
  EXPECT_TRUE(ChooseDrift(cost, 0, {true}).measured.empty());
  EXPECT_TRUE(ChooseDrift(cost, 0.2, {}).measured.empty());
}

}  // namespace
}  // namespace stamina::worker
