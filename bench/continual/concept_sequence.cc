#include "bench/continual/concept_sequence.h"

#include "absl/strings/str_cat.h"
#include "core/world/prng.h"

namespace stamina::bench {
namespace {

using core::Color;
using core::RenderParams;

struct Subject {
  core::SceneKind family;
  core::FaceIdentity face;
  core::LandmarkIdentity landmark;

  std::vector<Color> Backgrounds() const {
    return family == core::SceneKind::kFace ? core::ContrastingBackgrounds(face)
                                            : core::ContrastingBackgrounds(landmark);
  }
  core::Image Render(const RenderParams& params) const {
    return family == core::SceneKind::kFace ? core::RenderFace(face, params)
                                            : core::RenderLandmark(landmark, params);
  }
};

// The subject of `c` (family and identity_seed set), filling in its labels
// and description.
Subject SubjectOf(BenchConcept& c) {
  Subject subject{.family = c.family};
  if (c.family == core::SceneKind::kFace) {
    subject.face = core::FaceIdentity::FromSeed(c.identity_seed);
    c.labels = core::LabelsOf(subject.face);
    c.description = core::CaptionFace(subject.face, Color::kWhite);
    c.class_word = "face";
  } else {
    subject.landmark = core::LandmarkIdentity::FromSeed(c.identity_seed);
    c.labels = core::LabelsOf(subject.landmark);
    c.description = core::CaptionLandmark(subject.landmark, Color::kWhite);
    c.class_word = std::string(core::Name(subject.landmark.type));
  }
  return subject;
}

// The README demo's two concepts exactly as tools/demo.sh uploads them
// (core/world:render --renders=5: render 0 the canonical pose on white,
// renders 1-4 from seeds 1-4), captioned "a photo of <token>"; held-out
// renders from seeds 5 up.
std::vector<BenchConcept> DemoSequence(bool reversed, int train_images,
                                       int reference_images) {
  std::vector<BenchConcept> concepts;
  for (int k = 0; k < 2; ++k) {
    const bool face = k == 0;
    BenchConcept c;
    c.token = face ? "<anna>" : "<tower>";
    c.family = face ? core::SceneKind::kFace : core::SceneKind::kLandmark;
    c.identity_seed = core::kReservedIdentitySeedStart + k;
    const Subject subject = SubjectOf(c);
    const std::vector<Color> backgrounds = subject.Backgrounds();
    for (int r = 0; r < train_images + reference_images; ++r) {
      const RenderParams params =
          r == 0 ? RenderParams{.size = core::kDefaultImageSize}
                 : RenderParams::FromSeed(r, core::kDefaultImageSize, backgrounds);
      if (r < train_images) {
        c.train_images.push_back(subject.Render(params));
        c.train_captions.push_back("a photo of " + c.token);
      } else {
        c.reference_images.push_back(subject.Render(params));
      }
    }
    c.fidelity_background = backgrounds.front();
    concepts.push_back(std::move(c));
  }
  if (reversed) std::swap(concepts[0], concepts[1]);
  return concepts;
}

}  // namespace

absl::StatusOr<std::vector<BenchConcept>> BuildConceptSequence(
    absl::string_view family, int count, uint64_t seed, int train_images,
    int reference_images) {
  if (family == "demo" || family == "demo-reversed") {
    if (count != 2) return absl::InvalidArgumentError("family demo: concepts must be 2");
    return DemoSequence(family == "demo-reversed", train_images, reference_images);
  }
  if (family != "faces" && family != "landmarks" && family != "mixed") {
    return absl::InvalidArgumentError(absl::StrCat(
        "family: \"", family, "\" is not faces, landmarks, mixed, demo or demo-reversed"));
  }
  if (count < 1) return absl::InvalidArgumentError("concepts must be >= 1");
  std::vector<BenchConcept> concepts;
  for (int i = 0; i < count; ++i) {
    BenchConcept c;
    c.token = absl::StrCat("<c", i, ">");
    const bool face = family == "faces" || (family == "mixed" && i % 2 == 0);
    c.family = face ? core::SceneKind::kFace : core::SceneKind::kLandmark;
    // Reserved seeds, offset by the benchmark seed so runs can differ.
    c.identity_seed = core::kReservedIdentitySeedStart + seed * 1000 + i;
    const Subject subject = SubjectOf(c);
    const std::vector<Color> backgrounds = subject.Backgrounds();
    const uint64_t render_base = core::DeriveSeed(seed, c.identity_seed);
    for (int j = 0; j < train_images + reference_images; ++j) {
      const RenderParams params = RenderParams::FromSeed(
          core::DeriveSeed(render_base, j), core::kDefaultImageSize, backgrounds);
      if (j < train_images) {
        c.train_images.push_back(subject.Render(params));
        c.train_captions.push_back(core::CaptionWithToken(c.token, params.background));
      } else {
        c.reference_images.push_back(subject.Render(params));
      }
    }
    c.fidelity_background =
        backgrounds[core::DeriveSeed(render_base, 999'999) % backgrounds.size()];
    concepts.push_back(std::move(c));
  }
  return concepts;
}

}  // namespace stamina::bench
