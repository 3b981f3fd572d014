// File: core/world/attributes.h
//
// Owns the vocabulary of the synthetic world: the named colour palette, the
// attribute enums of faces, landmarks and shapes (each with the English word
// captions use and the colour it is drawn in), the identity tuples drawn from
// identity seeds, and the split between pretraining and reserved identities.
//
// Identity split. Seeds >= kReservedIdentitySeedStart (1,000,000) are
// reserved for personalization and benchmarks; PretrainingSample
// (renderer.h) only draws seeds below it. The attribute tuples are split too:
// a fixed pseudo-random 1/8 of all tuples is "held out". A pretraining seed
// only ever yields a non-held-out tuple, and reserved seed
// kReservedIdentitySeedStart + k yields the k-th held-out tuple of a fixed
// permutation, so the base model never sees a reserved identity's exact
// look (only its attributes, in other combinations), and the first
// NumReservedFaceTuples() reserved faces (resp. landmarks) are all distinct.
//
// Colours are chosen far apart in RGB (and eye colours against every skin
// tone) so that an oracle classifier can tell them apart at 32 x 32.
// Thread-safe: pure functions and immutable tables.
#ifndef STAMINA_CORE_WORLD_ATTRIBUTES_H_
#define STAMINA_CORE_WORLD_ATTRIBUTES_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/image.h"

namespace stamina::core {

// The named palette of backgrounds and shape colours.
enum class Color {
  kWhite,
  kGray,
  kBlack,
  kRed,
  kOrange,
  kYellow,
  kGreen,
  kCyan,
  kBlue,
  kPurple,
  kPink,
  kBrown,
};
inline constexpr int kNumColors = 12;

// Faces: one shared layout (canvas design space, see renderer.h).
enum class EyeShape { kRound, kNarrow, kDot };
enum class EyeColor { kBlue, kGreen, kBlack, kViolet };
enum class Mouth { kSmile, kFrown, kNeutral, kOpen };
enum class HairColor { kBlack, kBrown, kBlonde, kRed, kWhite, kBlue };
enum class HairStyle { kShort, kLong, kSpiky, kCurly, kBun };
enum class SkinTone { kPale, kTan, kBrown, kDark };
enum class Accessory { kNone, kGlasses, kHat };
inline constexpr int kNumEyeShapes = 3;
inline constexpr int kNumEyeColors = 4;
inline constexpr int kNumMouths = 4;
inline constexpr int kNumHairColors = 6;
inline constexpr int kNumHairStyles = 5;
inline constexpr int kNumSkinTones = 4;
inline constexpr int kNumAccessories = 3;

// Landmarks: a structure type in a material with an accent-coloured part and
// a count of repeated parts (windows, arches, steps, stripes).
enum class LandmarkType {
  kTower,
  kBridge,
  kMill,
  kPyramid,
  kArch,
  kLighthouse
};
enum class Material { kStone, kBrick, kSand, kMarble, kWood };
enum class Accent { kBlue, kGreen, kGold, kBlack, kPurple };
inline constexpr int kNumLandmarkTypes = 6;
inline constexpr int kNumMaterials = 5;
inline constexpr int kNumAccents = 5;
inline constexpr int kMaxLandmarkCount = 3;  // counts are 1..3

enum class ShapeKind { kCircle, kSquare, kTriangle, kDiamond, kCross, kRing };
enum class ShapeSize { kSmall, kMedium, kLarge };
inline constexpr int kNumShapeKinds = 6;
inline constexpr int kNumShapeSizes = 3;

// Caption words ("red", "narrow", "lighthouse") and drawing colours.
absl::string_view Name(Color c);
absl::string_view Name(EyeShape e);
absl::string_view Name(EyeColor e);
absl::string_view Name(Mouth m);
absl::string_view Name(HairColor h);
absl::string_view Name(HairStyle h);
absl::string_view Name(SkinTone s);
absl::string_view Name(Accessory a);
absl::string_view Name(LandmarkType t);
absl::string_view Name(Material m);
absl::string_view Name(Accent a);
absl::string_view Name(ShapeKind k);
absl::string_view Name(ShapeSize s);
Rgb ToRgb(Color c);
Rgb ToRgb(EyeColor e);
Rgb ToRgb(HairColor h);
Rgb ToRgb(SkinTone s);
Rgb ToRgb(Material m);
Rgb ToRgb(Accent a);

// Colours a background may have (no black or brown: they are hair, eye and
// outline colours).
const std::vector<Color>& BackgroundColors();

inline constexpr uint64_t kReservedIdentitySeedStart = 1'000'000;
inline bool IsReservedIdentity(uint64_t identity_seed) {
  return identity_seed >= kReservedIdentitySeedStart;
}

struct FaceIdentity {
  EyeShape eye_shape = EyeShape::kRound;
  EyeColor eye_color = EyeColor::kBlue;
  Mouth mouth = Mouth::kSmile;
  HairColor hair_color = HairColor::kBlack;
  HairStyle hair_style = HairStyle::kShort;
  SkinTone skin = SkinTone::kPale;
  Accessory accessory = Accessory::kNone;

  // Deterministic; see the identity split above.
  static FaceIdentity FromSeed(uint64_t identity_seed);
  // Mixed-radix index of the tuple, in [0, kNumFaceTuples), and back.
  uint32_t TupleIndex() const;
  static FaceIdentity FromTupleIndex(uint32_t index);

  friend bool operator==(const FaceIdentity& a, const FaceIdentity& b) {
    return a.TupleIndex() == b.TupleIndex();
  }
};
inline constexpr uint32_t kNumFaceTuples =
    kNumEyeShapes * kNumEyeColors * kNumMouths * kNumHairColors *
    kNumHairStyles * kNumSkinTones * kNumAccessories;

struct LandmarkIdentity {
  LandmarkType type = LandmarkType::kTower;
  Material material = Material::kStone;
  Accent accent = Accent::kBlue;
  int count = 1;  // 1..kMaxLandmarkCount

  static LandmarkIdentity FromSeed(uint64_t identity_seed);
  uint32_t TupleIndex() const;
  static LandmarkIdentity FromTupleIndex(uint32_t index);

  friend bool operator==(const LandmarkIdentity& a, const LandmarkIdentity& b) {
    return a.TupleIndex() == b.TupleIndex();
  }
};
inline constexpr uint32_t kNumLandmarkTuples =
    kNumLandmarkTypes * kNumMaterials * kNumAccents * kMaxLandmarkCount;

// Whether a tuple is held out of pretraining (reserved identities only).
bool IsHeldOutFaceTuple(uint32_t index);
bool IsHeldOutLandmarkTuple(uint32_t index);
// How many distinct reserved identities exist (reserved seeds beyond these
// repeat tuples cyclically).
uint32_t NumReservedFaceTuples();
uint32_t NumReservedLandmarkTuples();

}  // namespace stamina::core

#endif  // STAMINA_CORE_WORLD_ATTRIBUTES_H_
