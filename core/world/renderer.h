// File: core/world/renderer.h
//
// Owns the synthetic world's scenes: deterministic procedural renders of
// faces, landmarks and coloured shapes on solid named backgrounds, their
// captions, and the pretraining sample stream. The base model is pretrained
// on PretrainingSample() (generic captions over non-reserved identities);
// personalization and benchmarks render reserved identities
// (attributes.h) with CaptionWithToken().
//
// Why 32 x 32: the base model is pretrained from scratch on CPU-sized
// budgets, and 32 x 32 RGB is the smallest size at which a face still has
// room for eyes, mouth, hair and accessories as separate blobs. Every
// attribute is drawn at least 2 design units (2 pixels at 32 x 32) wide and
// tall, in flat colours chosen far apart, so an oracle classifier (and a
// diffusion model) can tell attributes apart. `size` may be any multiple of
// 32 (or any value; shapes then rasterise less crisply).
//
// Face layout (design units, unshifted, unscaled; at size 32 a design unit is
// a pixel): head ellipse centred (16, 17.5); eyes centred kLeftEyeCenter and
// kRightEyeCenter, every eye shape covers its centre pixel; mouth around
// y = 20..26; glasses frame the eyes without covering them; a hat covers
// y < 10.
//
// Determinism: everything is a pure function of its seeds and arguments
// (SplitMix64, prng.h), identical across platforms with IEEE doubles.
// Thread-safe: pure functions.
#ifndef STAMINA_CORE_WORLD_RENDERER_H_
#define STAMINA_CORE_WORLD_RENDERER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/image.h"
#include "core/world/attributes.h"
#include "core/world/canvas.h"

namespace stamina::core {

inline constexpr int kDefaultImageSize = 32;
inline constexpr Point kLeftEyeCenter{11.5, 15.5};
inline constexpr Point kRightEyeCenter{20.5, 15.5};

// How one render of a subject varies: background and a small pose change.
struct RenderParams {
  int size = kDefaultImageSize;
  Color background = Color::kWhite;
  Pose pose;  // identity pose by default

  // Background drawn from `backgrounds` (BackgroundColors() when empty),
  // shift in [-2.5, 2.5] units, scale in [0.9, 1.1], mirror with
  // probability 1/2.
  static RenderParams FromSeed(uint64_t render_seed,
                               int size = kDefaultImageSize,
                               const std::vector<Color>& backgrounds = {});
};

// The backgrounds a subject stays visible on: those at RGB distance >= 100
// from its hair and skin (faces) or material and accent (landmarks). Pass
// them to RenderParams::FromSeed; PretrainingSample does.
std::vector<Color> ContrastingBackgrounds(const FaceIdentity& face);
std::vector<Color> ContrastingBackgrounds(const LandmarkIdentity& landmark);

// A coloured shape; (x, y) is its centre in design units.
struct ShapeSpec {
  ShapeKind kind = ShapeKind::kCircle;
  Color color = Color::kRed;
  ShapeSize size = ShapeSize::kMedium;
  double x = 16;
  double y = 16;

  // Random kind, size and position; the colour is at RGB distance >= 100
  // from `background`.
  static ShapeSpec FromSeed(uint64_t seed, Color background);
};

Image RenderFace(const FaceIdentity& face, const RenderParams& params);
Image RenderLandmark(const LandmarkIdentity& landmark,
                     const RenderParams& params);
Image RenderShape(const ShapeSpec& shape, const RenderParams& params);

// Generic captions naming every attribute and the background, e.g.
// "a face with pale skin, red curly hair, blue round eyes and a smiling mouth,
// wearing glasses, on a green background",
// "a stone tower with a blue roof and two windows on a white background",
// "a small red circle on a white background".
std::string CaptionFace(const FaceIdentity& face, Color background);
std::string CaptionLandmark(const LandmarkIdentity& landmark, Color background);
std::string CaptionShape(const ShapeSpec& shape, Color background);
// Personalization: "a photo of <anna> on a red background".
std::string CaptionWithToken(absl::string_view token, Color background);

// Every word the captions above can contain (besides concept tokens), each
// once, lowercase: the word list of the built-in WordTokenizer.
std::vector<std::string> CaptionVocabulary();

enum class SceneKind { kShape, kFace, kLandmark };

struct Sample {
  SceneKind kind = SceneKind::kShape;
  uint64_t identity_seed = 0;  // faces and landmarks; never reserved
  Image image;
  std::string caption;
};

// One pretraining example: 40% faces, 30% landmarks, 30% shapes, identities
// drawn from seeds below kReservedIdentitySeedStart, random RenderParams.
Sample PretrainingSample(uint64_t sample_seed, int size = kDefaultImageSize);

}  // namespace stamina::core

#endif  // STAMINA_CORE_WORLD_RENDERER_H_
