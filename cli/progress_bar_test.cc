#include "cli/progress_bar.h"

#include <sstream>

#include "common/testing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::cli {
namespace {

TEST(ProgressBarTest, RendersBarPercentAndLabel) {
  std::ostringstream out;
  ProgressBar bar(out, {.width = 10});
  EXPECT_EQ(bar.Render(0.5, "half"), "[#####.....]  50% half");
  EXPECT_EQ(bar.Render(0.0, "none"), "[..........]   0% none");
  EXPECT_EQ(bar.Render(2.0, "over"), "[##########] 100% over");
  EXPECT_EQ(bar.Render(-1, "QUEUED position 3"), "QUEUED position 3");
}

TEST(ProgressBarTest, TtyRewritesOneLineAndPadsShorterLines) {
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar(out, {.tty = true, .width = 4, .clock = &clock});
  bar.Update(0.25, "uploading a long label");
  bar.Update(0.5, "short");
  bar.Finish(1.0, "done");
  bar.Update(0.1, "ignored after finish");
  EXPECT_EQ(out.str(),
            "\r[#...]  25% uploading a long label"
            "\r[##..]  50% short                 "
            "\r[####] 100% done \n");  // "short" was the longest visible text
}

TEST(ProgressBarTest, PlainModePrintsPeriodicLines) {
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar(out, {.tty = false,
                        .width = 4,
                        .min_interval = absl::Seconds(2),
                        .clock = &clock});
  bar.Update(0.25, "TRAINING 1/4");  // first: printed
  bar.Update(0.5, "TRAINING 2/4");   // too soon: skipped
  clock.Advance(absl::Seconds(2));
  bar.Update(0.5, "TRAINING 2/4");  // interval passed: printed
  bar.Update(0.6, "FOLDING");       // first word changed: printed at once
  bar.Update(0.7, "FOLDING more");  // same word, too soon: skipped
  bar.Update(0.8, "FOLDING forced", /*force=*/true);
  bar.Finish(1.0, "SUCCEEDED");
  bar.Finish(1.0, "SUCCEEDED twice");
  EXPECT_EQ(out.str(),
            "[#...]  25% TRAINING 1/4\n"
            "[##..]  50% TRAINING 2/4\n"
            "[##..]  60% FOLDING\n"
            "[###.]  80% FOLDING forced\n"
            "[####] 100% SUCCEEDED\n");
  EXPECT_THAT(out.str(), ::testing::Not(::testing::HasSubstr("\r")));
}

}  // namespace
}  // namespace stamina::cli
