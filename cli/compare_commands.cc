// `stamina compare`: CompareVersions drawn as one PNG contact sheet (rows =
// prompts, version A's images left of version B's, each row labelled with
// its token or prompt and drift, a title naming the versions) and printed as
// a table.
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/command_groups.h"
#include "cli/format.h"
#include "common/status_macros.h"
#include "core/image.h"
#include "core/world/contact_sheet.h"
#include "core/world/png.h"
#include "images/image_decoder.h"

namespace stamina::cli {
namespace {

// Samples are small (32 pixels on the tiny model): drawn 4x, nearest
// neighbour, so the sheet can be looked at.
constexpr int kScale = 4;

absl::StatusOr<core::Image> ToImage(const std::string& png) {
  STAMINA_ASSIGN_OR_RETURN(
      images::DecodedImage decoded,
      images::DecodeImage(png, {.max_bytes = 64 << 20, .max_pixels = 16 << 20, .min_side = 1}));
  core::Image image(decoded.width * kScale, decoded.height * kScale);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const size_t i = (static_cast<size_t>(y / kScale) * decoded.width + x / kScale) * 3;
      image.Set(x, y, {decoded.rgb[i], decoded.rgb[i + 1], decoded.rgb[i + 2]});
    }
  }
  return image;
}

}  // namespace

absl::StatusOr<int> Compare(Session& session, const Operands& operands) {
  const CommandFlags& flags = session.flags();
  v1::CompareVersionsRequest request;
  request.set_model(ModelName(operands[0]));
  if (operands[1] != "head") request.set_version_a(ChildName(operands[0], "versions", operands[1]));
  request.set_version_b(ChildName(operands[0], "versions", operands[2]));
  if (!flags.prompt.empty()) request.add_prompts(flags.prompt);
  request.set_image_count(flags.count);
  request.set_steps(flags.steps);
  request.set_seed(flags.seed);
  v1::CompareVersionsResponse response;
  STAMINA_RETURN_IF_ERROR(FromGrpc(session.sampler().CompareVersions(
      session.NewContext(/*deadline=*/false).get(), request, &response)));
  std::vector<core::Image> cells;
  std::vector<std::string> labels;
  std::vector<std::vector<std::string>> rows;
  int cols = 0;
  for (const v1::VersionComparison& c : response.comparisons()) {
    cols = c.images_a_size() + c.images_b_size();
    for (const auto* images : {&c.images_a(), &c.images_b()}) {
      for (const v1::GeneratedImage& image : *images) {
        STAMINA_ASSIGN_OR_RETURN(core::Image cell, ToImage(image.png()));
        cells.push_back(std::move(cell));
      }
    }
    const std::string what = c.token().empty() ? c.prompt() : c.token();
    labels.push_back(absl::StrFormat("%s drift %.3f", what, c.drift()));
    rows.push_back({c.prompt(), absl::StrFormat("%.4f", c.drift())});
  }
  const std::string path = (std::filesystem::path(flags.out_dir) / "compare.png").string();
  if (!cells.empty()) {
    STAMINA_ASSIGN_OR_RETURN(core::Image grid, core::MakeContactSheet(cells, cols, labels));
    const auto last = [](const std::string& name) { return name.substr(name.rfind('/') + 1); };
    const core::Image sheet =
        core::WithTitle(grid,
                        absl::StrCat("left: version ", last(response.version_a()),
                                     "  right: version ", last(response.version_b())),
                        cells.front().height);
    std::error_code error;
    std::filesystem::create_directories(flags.out_dir, error);
    STAMINA_RETURN_IF_ERROR(core::WritePng(sheet, path));
  }
  session.out() << "A = " << response.version_a() << " (left), B = " << response.version_b()
                << " (right), same seeds; drift = RMS pixel difference (0 = the same images)\n";
  PrintTable(session.out(), {"PROMPT", "DRIFT"}, rows);
  if (!cells.empty()) session.out() << "wrote " << path << '\n';
  return kExitOk;
}

}  // namespace stamina::cli
