// File: core/adapters/concept_drift.h
//
// The forgetting metric of a lineage (issue #17): when a version learns a
// concept, a few samples of the concept (fixed prompts and seeds) are drawn
// from it and kept with the concept's artifact (DriftReference); every later
// version draws the same prompts with the same seeds and reports how far
// they moved, as the RMS pixel drift of common/pixel_drift.h. 0 means the
// later version draws the concept exactly as the version that learned it;
// drawing another subject instead scores like two unrelated images (about
// 0.2–0.35). The measurement needs no oracle: it works on any checkpoint.
//
// Thread-compatible: uses the model exclusively.
#ifndef STAMINA_CORE_ADAPTERS_CONCEPT_DRIFT_H_
#define STAMINA_CORE_ADAPTERS_CONCEPT_DRIFT_H_

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/adapters/adapter_artifact.h"
#include "core/image.h"
#include "core/pipelines/diffusion_model.h"

namespace stamina::core {

struct DriftProbeSettings {
  int images_per_prompt = 2;
  int steps = 12;  // DDIM
  float guidance = 5.0f;
  int64_t seed = 1207;
  int max_side = 64;  // thumbnails kept and compared
};

// "a photo of <token>", then the first caption template with the token
// filled in when it says something else (the user's own phrasing).
std::vector<std::string> DriftPrompts(const std::string& token,
                                      const std::vector<std::string>& caption_templates);

// Box-filtered copy whose longer side is at most `max_side` (the image
// itself when it already fits).
Image Thumbnail(const Image& image, int max_side);

// Samples `prompts` from `model`. CANCELLED when `*cancelled` turns true.
absl::StatusOr<DriftReference> SampleDriftReference(DiffusionModel& model,
                                                    const std::vector<std::string>& prompts,
                                                    const DriftProbeSettings& settings,
                                                    const std::atomic<bool>* cancelled = nullptr);

// Draws the reference's prompts with its seed, steps and guidance from
// `model` and returns their drift from the reference's images.
absl::StatusOr<double> MeasureDrift(DiffusionModel& model, const DriftReference& reference,
                                    const std::atomic<bool>* cancelled = nullptr);

// RMS pixel drift of paired images (common/pixel_drift.h).
absl::StatusOr<double> ImageDrift(const std::vector<Image>& a, const std::vector<Image>& b);

}  // namespace stamina::core

#endif  // STAMINA_CORE_ADAPTERS_CONCEPT_DRIFT_H_
