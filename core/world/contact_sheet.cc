#include "core/world/contact_sheet.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "core/world/png.h"
#include "core/world/text.h"

namespace stamina::core {

std::vector<std::string> ParseRowLabels(absl::string_view flag) {
  if (flag.empty()) return {};
  return absl::StrSplit(flag, '|');
}

int LabelScale(int row_height) { return std::clamp(row_height / 64, 1, 3); }

absl::StatusOr<core::Image> MakeContactSheet(const std::vector<core::Image>& images, int cols,
                                             const std::vector<std::string>& row_labels) {
  if (cols < 1) return absl::InvalidArgumentError("cols must be >= 1");
  const int rows = (static_cast<int>(images.size()) + cols - 1) / cols;
  STAMINA_ASSIGN_OR_RETURN(core::Image grid, core::MakeGrid(images, rows, cols));
  if (row_labels.empty()) return grid;
  if (static_cast<int>(row_labels.size()) != rows) {
    return absl::InvalidArgumentError(
        absl::StrCat(row_labels.size(), " row labels for ", rows, " rows"));
  }
  const int row_h = images[0].height;
  const int scale = LabelScale(row_h);
  const int line_h = core::TextHeight(scale) + 2 * scale;
  const int max_lines = std::max(1, (row_h + 2 * scale) / line_h);
  const int line_w = core::TextWidth(std::string(kMaxLabelChars, 'M'), scale);
  std::vector<std::vector<std::string>> lines;
  int text_w = 0;
  for (const std::string& label : row_labels) {
    lines.push_back(core::WrapText(label, line_w, scale, max_lines));
    for (const std::string& line : lines.back()) {
      text_w = std::max(text_w, core::TextWidth(line, scale));
    }
  }
  const int pad = 4 * scale;
  const int margin = text_w + 2 * pad;
  core::Image sheet(margin + 1 + grid.width, grid.height, {255, 255, 255});
  for (int y = 0; y < grid.height; ++y) {
    sheet.Set(margin, y, {0, 0, 0});
    for (int x = 0; x < grid.width; ++x) sheet.Set(margin + 1 + x, y, grid.At(x, y));
  }
  for (int r = 0; r < rows; ++r) {
    const int n = static_cast<int>(lines[r].size());
    const int block_h = n * line_h - 2 * scale;
    const int y0 = r * (row_h + 1) + (row_h - block_h) / 2;
    for (int i = 0; i < n; ++i) {
      core::DrawText(sheet, pad, y0 + i * line_h, lines[r][i], kLabelInk, scale);
    }
  }
  return sheet;
}

core::Image WithTitle(const core::Image& sheet, const std::string& title, int row_height) {
  if (title.empty()) return sheet;
  const int scale = LabelScale(row_height);
  const int pad = 4 * scale;
  const int band = core::TextHeight(scale) + 2 * pad;
  core::Image out(sheet.width, band + 1 + sheet.height, {255, 255, 255});
  core::DrawText(out, pad, pad, core::FitText(title, sheet.width - 2 * pad, scale), kLabelInk,
                 scale);
  for (int x = 0; x < out.width; ++x) out.Set(x, band, {0, 0, 0});
  for (int y = 0; y < sheet.height; ++y) {
    for (int x = 0; x < sheet.width; ++x) out.Set(x, band + 1 + y, sheet.At(x, y));
  }
  return out;
}

}  // namespace stamina::core
