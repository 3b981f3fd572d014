// contact_sheet: tiles PNG/JPEG/WebP files into one PNG contact sheet, each
// image scaled up by an integer factor (nearest neighbour) so 32-pixel
// samples are visible. Used by `./stamina.sh demo` for demo-out/samples.png.
// --row_labels names the rows in a left margin (core/world/contact_sheet.h).
//
//   contact_sheet --out=samples.png --cols=3 --scale=4 a.png b.png c.png
//   contact_sheet --out=s.png --cols=2 --row_labels="stamina|lora" a.png b.png c.png d.png
//
// Images of different sizes are refused (INVALID_ARGUMENT), as in MakeGrid.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/image.h"
#include "core/world/contact_sheet.h"
#include "core/world/png.h"
#include "tools/image_file.h"

ABSL_FLAG(std::string, out, "", "PNG file to write");
ABSL_FLAG(int, cols, 4, "images per row");
ABSL_FLAG(int, scale, 4, "integer upscaling factor (nearest neighbour)");
ABSL_FLAG(std::string, row_labels, "",
          "row names drawn in a left margin, '|'-separated, one per row; empty: none");

namespace {

absl::Status Run(const std::vector<std::string>& paths) {
  const std::string out = absl::GetFlag(FLAGS_out);
  const int cols = absl::GetFlag(FLAGS_cols);
  const int scale = absl::GetFlag(FLAGS_scale);
  if (out.empty()) return absl::InvalidArgumentError("--out is required");
  if (paths.empty()) return absl::InvalidArgumentError("no input images");
  if (cols < 1 || scale < 1 || scale > 64) {
    return absl::InvalidArgumentError("--cols must be >= 1, --scale in [1, 64]");
  }
  std::vector<stamina::core::Image> images;
  for (const std::string& path : paths) {
    STAMINA_ASSIGN_OR_RETURN(auto image, stamina::tools::ReadImageFile(path, scale));
    images.push_back(std::move(image));
  }
  STAMINA_ASSIGN_OR_RETURN(
      stamina::core::Image sheet,
      stamina::core::MakeContactSheet(
          images, cols, stamina::core::ParseRowLabels(absl::GetFlag(FLAGS_row_labels))));
  return stamina::core::WritePng(sheet, out);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::vector<std::string> paths(args.begin() + 1, args.end());
  const absl::Status status = Run(paths);
  if (!status.ok()) {
    std::fprintf(stderr, "contact_sheet: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
