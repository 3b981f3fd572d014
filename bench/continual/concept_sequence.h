// File: bench/continual/concept_sequence.h
//
// The concepts of a continual-personalization benchmark, drawn from the
// synthetic world's reserved identities (never seen in pretraining): for
// each, a token "<c7>", its attribute labels, 5 training renders captioned
// "a photo of <c7> on a <colour> background", held-out renders (the MMD
// reference) and a background colour for the prompt-fidelity check.
//
// Pure functions of (family, count, seed). Thread-safe.
#ifndef STAMINA_BENCH_CONTINUAL_CONCEPT_SEQUENCE_H_
#define STAMINA_BENCH_CONTINUAL_CONCEPT_SEQUENCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/image.h"
#include "core/world/oracle.h"
#include "core/world/renderer.h"

namespace stamina::bench {

struct BenchConcept {
  std::string token;  // "<c7>"
  core::SceneKind family = core::SceneKind::kFace;
  uint64_t identity_seed = 0;
  std::string description;        // the generic caption of the identity
  std::string class_word;         // "face", or the landmark's type ("pyramid")
  core::AttributeLabels labels;   // identity attributes (no background)
  std::vector<core::Image> train_images;
  std::vector<std::string> train_captions;
  std::vector<core::Image> reference_images;  // held out
  core::Color fidelity_background = core::Color::kWhite;
};

// "faces", "landmarks", "mixed" (alternating), or "demo" / "demo-reversed":
// the README demo's <anna> (face) and <tower> (landmark) with its five
// uploads and caption "a photo of <token>", in either order (count must be
// 2); INVALID_ARGUMENT otherwise.
absl::StatusOr<std::vector<BenchConcept>> BuildConceptSequence(
    absl::string_view family, int count, uint64_t seed, int train_images = 5,
    int reference_images = 16);

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_CONTINUAL_CONCEPT_SEQUENCE_H_
