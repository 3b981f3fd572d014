// Renders a grid of synthetic-world scenes to a PNG, to look at the world:
//
//   bazel run //core/world:render -- --out=/tmp/faces.png --kind=face
//       --seed=1000000 --count=16 --renders=4
//
// --kind=face|landmark: identities seed .. seed+count-1, one row each with
// --renders renders (render seeds 0..renders-1; render 0 is unshifted on
// white when --renders > 1). --kind=shape: random shapes. --kind=pretrain:
// PretrainingSample(seed + i). Captions are printed, one per line.
// --out_dir=DIR writes every render as its own DIR/<i>_<r>.png instead of
// a grid (example uploads for the demo).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "core/world/png.h"
#include "core/world/renderer.h"

ABSL_FLAG(std::string, out, "/tmp/world.png", "PNG file to write");
ABSL_FLAG(std::string, kind, "pretrain", "face, landmark, shape or pretrain");
ABSL_FLAG(uint64_t, seed, 0, "first identity or sample seed");
ABSL_FLAG(int, count, 16, "number of identities or samples");
ABSL_FLAG(int, renders, 1, "renders per identity (face, landmark)");
ABSL_FLAG(int, size, 32, "image side in pixels");
ABSL_FLAG(std::string, out_dir, "", "write each render to DIR/<i>_<r>.png instead of a grid");

namespace stamina::core {
namespace {

absl::Status Run() {
  const std::string kind = absl::GetFlag(FLAGS_kind);
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  const int count = absl::GetFlag(FLAGS_count);
  const int renders =
      kind == "face" || kind == "landmark" ? absl::GetFlag(FLAGS_renders) : 1;
  const int size = absl::GetFlag(FLAGS_size);
  if (count <= 0 || renders <= 0 || size <= 0) {
    return absl::InvalidArgumentError("count, renders and size must be > 0");
  }
  std::vector<Image> images;
  for (int i = 0; i < count; ++i) {
    for (int r = 0; r < renders; ++r) {
      // Render 0 of a multi-render row is the canonical pose on white.
      const bool canonical = renders > 1 && r == 0;
      RenderParams params{.size = size};
      std::string caption;
      if (kind == "face") {
        const FaceIdentity face = FaceIdentity::FromSeed(seed + i);
        if (!canonical) {
          params =
              RenderParams::FromSeed(r, size, ContrastingBackgrounds(face));
        }
        images.push_back(RenderFace(face, params));
        caption = CaptionFace(face, params.background);
      } else if (kind == "landmark") {
        const LandmarkIdentity l = LandmarkIdentity::FromSeed(seed + i);
        if (!canonical) {
          params = RenderParams::FromSeed(r, size, ContrastingBackgrounds(l));
        }
        images.push_back(RenderLandmark(l, params));
        caption = CaptionLandmark(l, params.background);
      } else if (kind == "shape") {
        params = RenderParams::FromSeed(seed + i, size);
        const ShapeSpec s = ShapeSpec::FromSeed(seed + i, params.background);
        images.push_back(RenderShape(s, params));
        caption = CaptionShape(s, params.background);
      } else if (kind == "pretrain") {
        Sample sample = PretrainingSample(seed + i, size);
        images.push_back(std::move(sample.image));
        caption = std::move(sample.caption);
      } else {
        return absl::InvalidArgumentError("unknown --kind " + kind);
      }
      if (r == 0) std::printf("%d: %s\n", i, caption.c_str());
    }
  }
  if (const std::string dir = absl::GetFlag(FLAGS_out_dir); !dir.empty()) {
    for (size_t k = 0; k < images.size(); ++k) {
      const std::string path = dir + "/" + std::to_string(k / renders) + "_" +
                               std::to_string(k % renders) + ".png";
      if (absl::Status s = WritePng(images[k], path); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  const int cols =
      renders > 1 ? renders : static_cast<int>(std::ceil(std::sqrt(count)));
  const int rows = (static_cast<int>(images.size()) + cols - 1) / cols;
  return WriteGridPng(images, rows, cols, absl::GetFlag(FLAGS_out));
}

}  // namespace
}  // namespace stamina::core

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = stamina::core::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "render: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
