// File: cli/progress_bar.h
//
// A one-line text progress bar for the `stamina` CLI. On a terminal the line
// is rewritten in place with `\r` (padded so a shorter line erases a longer
// one) and ended with a newline by Finish(). On anything else (a pipe, a log
// file, a test's string stream) it writes plain lines: one per phase change
// and per tenth of the way, plus one per `min_interval`, never the same line
// twice, so logs stay short and still show steady progress.
//
//   ProgressBar bar(std::cerr, {.tty = isatty(2) != 0});
//   bar.Update(0.5, "uploading 3/6 files");
//   bar.Finish("done");
//
// Not thread-safe; one per operation.
#ifndef STAMINA_CLI_PROGRESS_BAR_H_
#define STAMINA_CLI_PROGRESS_BAR_H_

#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace stamina::cli {

class ProgressBar {
 public:
  struct Options {
    // Rewrite one line with `\r` (a terminal) or print plain lines.
    bool tty = false;
    // Characters between the brackets.
    int width = 24;
    // Plain mode: the least time between two unforced lines.
    absl::Duration min_interval = absl::Seconds(2);
    Clock* clock = Clock::Real();  // not owned
  };

  // `out` must outlive the bar.
  ProgressBar(std::ostream& out, Options options);
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Shows `fraction` (clamped to [0, 1]; negative = unknown, no bar) and
  // `label`. Plain mode prints only a line that differs from the last one,
  // and only when `force`, on the first update, when the label's first word
  // changed, when the fraction reached a new tenth, or after min_interval.
  void Update(double fraction, absl::string_view label, bool force = false);

  // Prints the final state (unless the last line already showed it) and
  // ends the line. Later calls do nothing.
  void Finish(double fraction, absl::string_view label);

  // The line Update would draw (without `\r` or padding).
  std::string Render(double fraction, absl::string_view label) const;

 private:
  std::ostream& out_;
  Options options_;
  bool finished_ = false;
  bool drawn_ = false;
  size_t last_length_ = 0;
  std::string last_first_word_;
  int last_tenth_ = -1;
  std::string last_line_;
  absl::Time last_print_ = absl::InfinitePast();
};

}  // namespace stamina::cli

#endif  // STAMINA_CLI_PROGRESS_BAR_H_
