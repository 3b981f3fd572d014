#include "common/pixel_drift.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace stamina {

absl::StatusOr<double> RmsPixelDrift(const std::vector<RgbView>& a, const std::vector<RgbView>& b) {
  if (a.size() != b.size() || a.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("drift of ", a.size(), " and ", b.size(), " images"));
  }
  double total = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].width != b[i].width || a[i].height != b[i].height || a[i].width <= 0 ||
        a[i].height <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("image ", i, " differs in size (", a[i].width,
                                                     "x", a[i].height, " and ", b[i].width, "x",
                                                     b[i].height, ")"));
    }
    const size_t channels = static_cast<size_t>(a[i].width) * a[i].height * 3;
    double squares = 0;
    for (size_t k = 0; k < channels; ++k) {
      const double d = (static_cast<double>(a[i].rgb[k]) - b[i].rgb[k]) / 255.0;
      squares += d * d;
    }
    total += std::sqrt(squares / channels);
  }
  return total / static_cast<double>(a.size());
}

}  // namespace stamina
