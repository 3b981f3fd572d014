// File: core/world/text.h
//
// Owns text drawn into Images: a built-in fixed-width bitmap font (printable
// ASCII 32..126, 5 x 7 glyphs plus one descender row, on a 6-pixel advance),
// scaled by an integer factor (each font pixel becomes a scale x scale
// block), and the arithmetic to lay text out: width, height, truncation with
// "..." and word wrapping. Other bytes (including UTF-8 sequences) are drawn
// as '?', one per byte. Drawing clips at the image border.
//
//   DrawText(image, 4, 4, "task t", {0, 0, 0}, /*scale=*/2);
//
// Thread-safe: pure functions over the caller's image (one writer per image).
#ifndef STAMINA_CORE_WORLD_TEXT_H_
#define STAMINA_CORE_WORLD_TEXT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/image.h"

namespace stamina::core {

// Font metrics in font pixels (multiply by the scale): a glyph is
// kGlyphWidth x kGlyphHeight (rows 0..6 above the baseline, row 7 for the
// descenders of g j p q y , _), and characters advance by kGlyphAdvance.
inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphHeight = 8;
inline constexpr int kGlyphAdvance = 6;

// The 8 rows of `c`'s glyph, top to bottom; bit 4 is the leftmost column.
// Characters outside 32..126 give the '?' glyph.
const unsigned char* Glyph(char c);

// Pixels covered by `text` on one line: (6 n - 1) * scale for n > 0
// characters (no trailing space after the last glyph), 0 for "".
int TextWidth(absl::string_view text, int scale);
// kGlyphHeight * scale.
int TextHeight(int scale);
// The most characters that fit in `max_width` pixels (0 when none).
int CharsThatFit(int max_width, int scale);

// `text` when it fits in `max_width` pixels, otherwise its longest prefix
// that fits followed by "..." (or as much of "..." as fits).
std::string FitText(absl::string_view text, int max_width, int scale);

// Greedy word wrap at spaces into lines at most `max_width` pixels wide;
// words longer than a line are split. At most `max_lines` lines: when the
// text needs more, the last line ends in "...". Empty for empty text or
// max_lines < 1.
std::vector<std::string> WrapText(absl::string_view text, int max_width, int scale, int max_lines);

// Draws `text` on one line with the top-left corner of its first glyph at
// (x, y). Pixels outside the image are skipped.
void DrawText(Image& image, int x, int y, absl::string_view text, Rgb color, int scale = 1);

// Draws `text` turned 90 degrees counter-clockwise (reading bottom to top,
// as a y-axis title): its box is TextHeight(scale) wide and
// TextWidth(text, scale) tall, with top-left corner (x, y).
void DrawTextRotated90(Image& image, int x, int y, absl::string_view text, Rgb color,
                       int scale = 1);

}  // namespace stamina::core

#endif  // STAMINA_CORE_WORLD_TEXT_H_
