#include "cli/progress_bar.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace stamina::cli {
namespace {

std::string FirstWord(absl::string_view label) {
  const size_t space = label.find(' ');
  return std::string(label.substr(0, space));
}

}  // namespace

ProgressBar::ProgressBar(std::ostream& out, Options options)
    : out_(out), options_(options) {}

std::string ProgressBar::Render(double fraction,
                                absl::string_view label) const {
  if (fraction < 0 || std::isnan(fraction)) return std::string(label);
  fraction = std::min(fraction, 1.0);
  const int width = std::max(options_.width, 1);
  const int filled = static_cast<int>(std::floor(fraction * width));
  return absl::StrFormat("[%s%s] %3d%% %s", std::string(filled, '#'),
                         std::string(width - filled, '.'),
                         static_cast<int>(std::floor(fraction * 100)), label);
}

void ProgressBar::Update(double fraction, absl::string_view label, bool force) {
  if (finished_) return;
  const std::string line = Render(fraction, label);
  const absl::Time now = options_.clock->Now();
  if (options_.tty) {
    // Pad with spaces so a shorter line fully covers the previous one.
    const size_t pad =
        last_length_ > line.size() ? last_length_ - line.size() : 0;
    out_ << '\r' << line << std::string(pad, ' ') << std::flush;
    last_length_ = line.size();
    drawn_ = true;
    return;
  }
  // Plain lines: on a new phase (first word), each tenth of the way, after
  // min_interval, or when forced; never the same line twice in a row.
  const std::string first_word = FirstWord(label);
  const int tenth = fraction < 0 || std::isnan(fraction)
                        ? -1
                        : static_cast<int>(std::floor(std::min(fraction, 1.0) * 10));
  const bool new_phase = first_word != last_first_word_;
  // A phase that starts over (an upload retried from 0) counts its tenths anew.
  if (tenth < last_tenth_) last_tenth_ = tenth;
  const bool due = force || !drawn_ || new_phase || tenth > last_tenth_ ||
                   now - last_print_ >= options_.min_interval;
  if (!due || line == last_line_) return;
  out_ << line << '\n' << std::flush;
  drawn_ = true;
  last_first_word_ = first_word;
  last_tenth_ = tenth;
  last_line_ = line;
  last_print_ = now;
}

void ProgressBar::Finish(double fraction, absl::string_view label) {
  if (finished_) return;
  Update(fraction, label, /*force=*/true);
  if (options_.tty) out_ << '\n' << std::flush;
  finished_ = true;
}

}  // namespace stamina::cli
