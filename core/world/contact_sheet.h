// File: core/world/contact_sheet.h
//
// Owns the layout of contact sheets (tools/contact_sheet, `stamina compare`): the image grid of
// core::MakeGrid, optionally with a white left margin that names each row
// (dark text, vertically centred on its row, wrapped to a few lines and
// ended with "..." when it does not fit).
// Thread-safe: pure functions.
#ifndef STAMINA_CORE_WORLD_CONTACT_SHEET_H_
#define STAMINA_CORE_WORLD_CONTACT_SHEET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/image.h"

namespace stamina::core {

// Label lines are at most this many characters (longer labels wrap).
inline constexpr int kMaxLabelChars = 16;
inline constexpr core::Rgb kLabelInk{20, 20, 20};

// "a|b|c" -> {"a", "b", "c"}; "" -> no labels (a row may be labelled "").
std::vector<std::string> ParseRowLabels(absl::string_view flag);

// Font scale for labels beside rows `row_height` pixels tall: row_height /
// 64, clamped to [1, 3] (2 for the 128-pixel rows of 32-pixel samples at
// --scale=4).
int LabelScale(int row_height);

// core::MakeGrid(images, rows, cols) with rows = ceil(images / cols). With
// labels (one per row, else INVALID_ARGUMENT) the grid moves right behind a
// white margin as wide as the longest label line plus padding and a
// 1-pixel black gutter; row r's label is drawn left-aligned in the margin,
// vertically centred on row r. Without labels the result is MakeGrid's.
absl::StatusOr<core::Image> MakeContactSheet(const std::vector<core::Image>& images, int cols,
                                             const std::vector<std::string>& row_labels);

// `sheet` below a white band with `title` (one line, cut to fit the width,
// dark text at the sheet's label scale for `row_height`) and a 1-pixel
// black rule. An empty title returns the sheet unchanged.
core::Image WithTitle(const core::Image& sheet, const std::string& title, int row_height);

}  // namespace stamina::core

#endif  // STAMINA_CORE_WORLD_CONTACT_SHEET_H_
