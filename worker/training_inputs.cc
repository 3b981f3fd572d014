#include "worker/training_inputs.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_replace.h"
#include "images/image_decoder.h"

namespace stamina::worker {
namespace {

// Mean of the source pixels covering [x0, x1) x [y0, y1) (fractional edges
// weighted by coverage).
core::Rgb AreaAverage(const core::Image& src, int left, int top, double x0,
                      double y0, double x1, double y1) {
  double sum[3] = {0, 0, 0};
  double total = 0;
  for (int y = static_cast<int>(std::floor(y0)); y < static_cast<int>(std::ceil(y1)); ++y) {
    const double wy = std::min<double>(y + 1, y1) - std::max<double>(y, y0);
    for (int x = static_cast<int>(std::floor(x0)); x < static_cast<int>(std::ceil(x1));
         ++x) {
      const double w = wy * (std::min<double>(x + 1, x1) - std::max<double>(x, x0));
      if (w <= 0) continue;
      const core::Rgb c = src.At(left + x, top + y);
      sum[0] += w * c.r;
      sum[1] += w * c.g;
      sum[2] += w * c.b;
      total += w;
    }
  }
  auto channel = [&](int i) {
    return static_cast<uint8_t>(std::clamp(std::lround(sum[i] / total), 0L, 255L));
  };
  return {channel(0), channel(1), channel(2)};
}

core::Rgb Bilinear(const core::Image& src, int left, int top, int crop, double x,
                   double y) {
  x = std::clamp(x, 0.0, crop - 1.0);
  y = std::clamp(y, 0.0, crop - 1.0);
  const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
  const int x1 = std::min(x0 + 1, crop - 1), y1 = std::min(y0 + 1, crop - 1);
  const double fx = x - x0, fy = y - y0;
  const core::Rgb a = src.At(left + x0, top + y0), b = src.At(left + x1, top + y0);
  const core::Rgb c = src.At(left + x0, top + y1), d = src.At(left + x1, top + y1);
  auto mix = [&](uint8_t pa, uint8_t pb, uint8_t pc, uint8_t pd) {
    const double top_row = pa + (pb - pa) * fx;
    const double bottom_row = pc + (pd - pc) * fx;
    return static_cast<uint8_t>(std::lround(top_row + (bottom_row - top_row) * fy));
  };
  return {mix(a.r, b.r, c.r, d.r), mix(a.g, b.g, c.g, d.g), mix(a.b, b.b, c.b, d.b)};
}

}  // namespace

core::Image CropAndResize(const core::Image& image, int side) {
  const int crop = std::min(image.width, image.height);
  const int left = (image.width - crop) / 2;
  const int top = (image.height - crop) / 2;
  core::Image out(side, side);
  const double scale = static_cast<double>(crop) / side;
  for (int y = 0; y < side; ++y) {
    for (int x = 0; x < side; ++x) {
      out.Set(x, y,
              scale >= 1 ? AreaAverage(image, left, top, x * scale, y * scale,
                                       (x + 1) * scale, (y + 1) * scale)
                         : Bilinear(image, left, top, crop, (x + 0.5) * scale - 0.5,
                                    (y + 0.5) * scale - 0.5));
    }
  }
  return out;
}

absl::StatusOr<core::Image> PrepareTrainingImage(absl::string_view bytes, int side) {
  if (side < 1) return absl::InvalidArgumentError("side: must be >= 1");
  // The upload path verified the image against the deployment's limits; these
  // only bound what a corrupt store could make the worker allocate.
  absl::StatusOr<images::DecodedImage> decoded = images::DecodeImage(
      bytes, {.max_bytes = int64_t{1} << 30, .max_pixels = 100'000'000, .min_side = 1});
  if (!decoded.ok()) return decoded.status();
  core::Image image;
  image.width = decoded->width;
  image.height = decoded->height;
  image.pixels = std::move(decoded->rgb);
  if (image.width == side && image.height == side) return image;
  return CropAndResize(image, side);
}

std::vector<std::string> TrainingCaptions(const TrainingTask& task) {
  std::vector<std::string> captions;
  size_t next_template = 0;
  for (const TaskImage& image : task.images) {
    std::string caption = image.caption;
    if (caption.empty() && !task.caption_templates.empty()) {
      caption = task.caption_templates[next_template++ % task.caption_templates.size()];
    }
    if (caption.empty()) caption = "a photo of {}";
    captions.push_back(absl::StrReplaceAll(caption, {{"{}", task.token}}));
  }
  return captions;
}

}  // namespace stamina::worker
