#include "cli/progress_bar.h"

#include <algorithm>
#include <sstream>

#include "absl/strings/str_cat.h"
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
  bar.Update(0.25, "TRAINING 5/20");  // first: printed
  bar.Update(0.27, "TRAINING 6/20");  // same tenth, too soon: skipped
  clock.Advance(absl::Seconds(2));
  bar.Update(0.28, "TRAINING 7/20");  // interval passed: printed
  bar.Update(0.30, "TRAINING 8/20");  // a new tenth: printed at once
  bar.Update(0.6, "FOLDING");         // first word changed: printed at once
  bar.Update(0.65, "FOLDING more");   // same word and tenth, too soon: skipped
  bar.Update(0.65, "FOLDING forced", /*force=*/true);
  bar.Finish(1.0, "SUCCEEDED");
  bar.Finish(1.0, "SUCCEEDED twice");
  EXPECT_EQ(out.str(),
            "[#...]  25% TRAINING 5/20\n"
            "[#...]  28% TRAINING 7/20\n"
            "[#...]  30% TRAINING 8/20\n"
            "[##..]  60% FOLDING\n"
            "[##..]  65% FOLDING forced\n"
            "[####] 100% SUCCEEDED\n");
  EXPECT_THAT(out.str(), ::testing::Not(::testing::HasSubstr("\r")));
}

TEST(ProgressBarTest, PlainModeShowsEveryTenthOfAFastOperation) {
  std::ostringstream out;
  FakeClock clock;  // never advances: a 10-step sample that takes no time
  ProgressBar bar(out, {.tty = false, .width = 4, .clock = &clock});
  for (int step = 1; step <= 10; ++step) {
    bar.Update(step / 10.0, absl::StrCat("DENOISING step ", step, "/10"));
  }
  bar.Update(1.0, "DECODING");
  const std::string lines = out.str();
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 11) << lines;
  EXPECT_THAT(lines, ::testing::HasSubstr("DENOISING step 5/10\n"));
}

TEST(ProgressBarTest, FinishDoesNotRepeatTheLastLine) {
  std::ostringstream out;
  ProgressBar bar(out, {.tty = false, .width = 4});
  bar.Update(0.5, "RUNNING TRAINING step 10/20");
  bar.Update(1.0, "SUCCEEDED step 20/20");  // the stream's last snapshot
  bar.Finish(1.0, "SUCCEEDED step 20/20");  // the same state once more
  EXPECT_EQ(out.str(),
            "[##..]  50% RUNNING TRAINING step 10/20\n"
            "[####] 100% SUCCEEDED step 20/20\n");
}

}  // namespace
}  // namespace stamina::cli
