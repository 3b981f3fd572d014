// File: common/pixel_drift.h
//
// The one image distance the service reports as "drift" (CompareVersions,
// the proof of erasure, and the forgetting metric of a lineage): the mean
// over image pairs of the root-mean-square difference of their RGB channels
// scaled to [0, 1]. Samples of the same prompts and seeds from two versions
// are paired, so 0 means the very same pixels and 1 means black against
// white everywhere; two unrelated subjects at the same seeds typically land
// between 0.15 and 0.35.
//
// Thread-safe: pure functions over caller-owned pixels.
#ifndef STAMINA_COMMON_PIXEL_DRIFT_H_
#define STAMINA_COMMON_PIXEL_DRIFT_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace stamina {

// Interleaved 8-bit RGB, row-major, not owned.
struct RgbView {
  int width = 0;
  int height = 0;
  const uint8_t* rgb = nullptr;  // width * height * 3 bytes
};

// INVALID_ARGUMENT when the counts differ, there are none, or a pair differs
// in size.
absl::StatusOr<double> RmsPixelDrift(const std::vector<RgbView>& a, const std::vector<RgbView>& b);

}  // namespace stamina

#endif  // STAMINA_COMMON_PIXEL_DRIFT_H_
