#include "core/world/attributes.h"

#include <cstdint>
#include <numeric>
#include <vector>

#include "core/world/prng.h"

namespace stamina::core {
namespace {

struct NamedRgb {
  const char* name;
  Rgb rgb;
};

constexpr NamedRgb kColors[kNumColors] = {
    {"white", {245, 245, 245}}, {"gray", {128, 128, 128}},
    {"black", {20, 20, 20}},    {"red", {220, 40, 40}},
    {"orange", {245, 140, 20}}, {"yellow", {245, 225, 40}},
    {"green", {40, 170, 60}},   {"cyan", {40, 210, 220}},
    {"blue", {40, 80, 220}},    {"purple", {140, 50, 190}},
    {"pink", {245, 130, 190}},  {"brown", {120, 70, 30}},
};
// Eye colours contrast with every skin tone (no brown eyes: they vanish on
// brown and dark skin at 32 x 32).
constexpr NamedRgb kEyeColors[kNumEyeColors] = {
    {"blue", {30, 90, 255}},
    {"green", {20, 190, 40}},
    {"black", {15, 15, 15}},
    {"violet", {170, 40, 220}},
};
constexpr NamedRgb kHairColors[kNumHairColors] = {
    {"black", {25, 25, 25}},    {"brown", {115, 65, 25}},
    {"blonde", {240, 210, 90}}, {"red", {210, 60, 20}},
    {"white", {250, 250, 250}}, {"blue", {40, 100, 230}},
};
constexpr NamedRgb kSkinTones[kNumSkinTones] = {
    {"pale", {255, 225, 200}},
    {"tan", {225, 170, 120}},
    {"brown", {160, 105, 60}},
    {"dark", {100, 62, 42}},
};
constexpr NamedRgb kMaterials[kNumMaterials] = {
    {"stone", {135, 135, 145}}, {"brick", {175, 75, 50}},
    {"sand", {225, 195, 130}},  {"marble", {240, 240, 235}},
    {"wood", {125, 80, 40}},
};
constexpr NamedRgb kAccents[kNumAccents] = {
    {"blue", {30, 70, 230}},    {"green", {30, 170, 50}},
    {"gold", {250, 200, 0}},    {"black", {20, 20, 20}},
    {"purple", {150, 40, 190}},
};
constexpr const char* kEyeShapes[kNumEyeShapes] = {"round", "narrow", "dot"};
constexpr const char* kMouths[kNumMouths] = {"smiling", "frowning", "straight",
                                             "open"};
constexpr const char* kHairStyles[kNumHairStyles] = {"short", "long", "spiky",
                                                     "curly", "bun"};
constexpr const char* kAccessories[kNumAccessories] = {"none", "glasses",
                                                       "hat"};
constexpr const char* kLandmarkTypes[kNumLandmarkTypes] = {
    "tower", "bridge", "mill", "pyramid", "arch", "lighthouse"};
constexpr const char* kShapeKinds[kNumShapeKinds] = {
    "circle", "square", "triangle", "diamond", "cross", "ring"};
constexpr const char* kShapeSizes[kNumShapeSizes] = {"small", "medium",
                                                     "large"};

constexpr uint64_t kFaceSeedTag = 0xfa0e;
constexpr uint64_t kLandmarkSeedTag = 0x1a4d;
constexpr uint64_t kFaceHoldOutTag = 0xfa0e0001;
constexpr uint64_t kLandmarkHoldOutTag = 0x1a4d0001;
constexpr uint64_t kHoldOutOneIn = 8;

// The held-out tuple indices in a fixed pseudo-random order: a stride
// coprime with their number walks all of them before repeating.
struct HeldOut {
  std::vector<uint32_t> indices;
  uint64_t stride = 1;
};

HeldOut MakeHeldOut(uint32_t num_tuples, bool (*held_out)(uint32_t)) {
  HeldOut h;
  for (uint32_t i = 0; i < num_tuples; ++i) {
    if (held_out(i)) h.indices.push_back(i);
  }
  const uint64_t n = h.indices.size();
  h.stride = n * 5 / 8 + 1;
  while (std::gcd(h.stride, n) != 1) ++h.stride;
  return h;
}

const HeldOut& FaceHeldOut() {
  static const HeldOut* h =
      new HeldOut(MakeHeldOut(kNumFaceTuples, &IsHeldOutFaceTuple));
  return *h;
}
const HeldOut& LandmarkHeldOut() {
  static const HeldOut* h =
      new HeldOut(MakeHeldOut(kNumLandmarkTuples, &IsHeldOutLandmarkTuple));
  return *h;
}

// A reserved seed picks from the held-out list; any other seed draws tuples
// until one is not held out.
uint32_t DrawTupleIndex(uint64_t seed, uint64_t tag, uint32_t num_tuples,
                        bool (*held_out)(uint32_t), const HeldOut& list) {
  if (IsReservedIdentity(seed)) {
    const uint64_t k = seed - kReservedIdentitySeedStart;
    return list
        .indices[(k % list.indices.size()) * list.stride % list.indices.size()];
  }
  SplitMix64 rng(DeriveSeed(seed, tag));
  while (true) {
    const uint32_t index = rng.Below(num_tuples);
    if (!held_out(index)) return index;
  }
}

}  // namespace

absl::string_view Name(Color c) { return kColors[static_cast<int>(c)].name; }
absl::string_view Name(EyeShape e) { return kEyeShapes[static_cast<int>(e)]; }
absl::string_view Name(EyeColor e) {
  return kEyeColors[static_cast<int>(e)].name;
}
absl::string_view Name(Mouth m) { return kMouths[static_cast<int>(m)]; }
absl::string_view Name(HairColor h) {
  return kHairColors[static_cast<int>(h)].name;
}
absl::string_view Name(HairStyle h) { return kHairStyles[static_cast<int>(h)]; }
absl::string_view Name(SkinTone s) {
  return kSkinTones[static_cast<int>(s)].name;
}
absl::string_view Name(Accessory a) {
  return kAccessories[static_cast<int>(a)];
}
absl::string_view Name(LandmarkType t) {
  return kLandmarkTypes[static_cast<int>(t)];
}
absl::string_view Name(Material m) {
  return kMaterials[static_cast<int>(m)].name;
}
absl::string_view Name(Accent a) { return kAccents[static_cast<int>(a)].name; }
absl::string_view Name(ShapeKind k) { return kShapeKinds[static_cast<int>(k)]; }
absl::string_view Name(ShapeSize s) { return kShapeSizes[static_cast<int>(s)]; }

Rgb ToRgb(Color c) { return kColors[static_cast<int>(c)].rgb; }
Rgb ToRgb(EyeColor e) { return kEyeColors[static_cast<int>(e)].rgb; }
Rgb ToRgb(HairColor h) { return kHairColors[static_cast<int>(h)].rgb; }
Rgb ToRgb(SkinTone s) { return kSkinTones[static_cast<int>(s)].rgb; }
Rgb ToRgb(Material m) { return kMaterials[static_cast<int>(m)].rgb; }
Rgb ToRgb(Accent a) { return kAccents[static_cast<int>(a)].rgb; }

const std::vector<Color>& BackgroundColors() {
  static const std::vector<Color>* colors = new std::vector<Color>{
      Color::kWhite, Color::kGray, Color::kRed,  Color::kOrange, Color::kYellow,
      Color::kGreen, Color::kCyan, Color::kBlue, Color::kPurple, Color::kPink};
  return *colors;
}

uint32_t FaceIdentity::TupleIndex() const {
  uint32_t i = static_cast<uint32_t>(eye_shape);
  i = i * kNumEyeColors + static_cast<uint32_t>(eye_color);
  i = i * kNumMouths + static_cast<uint32_t>(mouth);
  i = i * kNumHairColors + static_cast<uint32_t>(hair_color);
  i = i * kNumHairStyles + static_cast<uint32_t>(hair_style);
  i = i * kNumSkinTones + static_cast<uint32_t>(skin);
  i = i * kNumAccessories + static_cast<uint32_t>(accessory);
  return i;
}

FaceIdentity FaceIdentity::FromTupleIndex(uint32_t i) {
  FaceIdentity f;
  f.accessory = static_cast<Accessory>(i % kNumAccessories);
  i /= kNumAccessories;
  f.skin = static_cast<SkinTone>(i % kNumSkinTones);
  i /= kNumSkinTones;
  f.hair_style = static_cast<HairStyle>(i % kNumHairStyles);
  i /= kNumHairStyles;
  f.hair_color = static_cast<HairColor>(i % kNumHairColors);
  i /= kNumHairColors;
  f.mouth = static_cast<Mouth>(i % kNumMouths);
  i /= kNumMouths;
  f.eye_color = static_cast<EyeColor>(i % kNumEyeColors);
  i /= kNumEyeColors;
  f.eye_shape = static_cast<EyeShape>(i % kNumEyeShapes);
  return f;
}

FaceIdentity FaceIdentity::FromSeed(uint64_t identity_seed) {
  return FromTupleIndex(DrawTupleIndex(identity_seed, kFaceSeedTag,
                                       kNumFaceTuples, &IsHeldOutFaceTuple,
                                       FaceHeldOut()));
}

uint32_t LandmarkIdentity::TupleIndex() const {
  uint32_t i = static_cast<uint32_t>(type);
  i = i * kNumMaterials + static_cast<uint32_t>(material);
  i = i * kNumAccents + static_cast<uint32_t>(accent);
  i = i * kMaxLandmarkCount + static_cast<uint32_t>(count - 1);
  return i;
}

LandmarkIdentity LandmarkIdentity::FromTupleIndex(uint32_t i) {
  LandmarkIdentity l;
  l.count = static_cast<int>(i % kMaxLandmarkCount) + 1;
  i /= kMaxLandmarkCount;
  l.accent = static_cast<Accent>(i % kNumAccents);
  i /= kNumAccents;
  l.material = static_cast<Material>(i % kNumMaterials);
  i /= kNumMaterials;
  l.type = static_cast<LandmarkType>(i % kNumLandmarkTypes);
  return l;
}

LandmarkIdentity LandmarkIdentity::FromSeed(uint64_t identity_seed) {
  return FromTupleIndex(
      DrawTupleIndex(identity_seed, kLandmarkSeedTag, kNumLandmarkTuples,
                     &IsHeldOutLandmarkTuple, LandmarkHeldOut()));
}

bool IsHeldOutFaceTuple(uint32_t index) {
  return Mix64(index ^ Mix64(kFaceHoldOutTag)) % kHoldOutOneIn == 0;
}
bool IsHeldOutLandmarkTuple(uint32_t index) {
  return Mix64(index ^ Mix64(kLandmarkHoldOutTag)) % kHoldOutOneIn == 0;
}
uint32_t NumReservedFaceTuples() {
  return static_cast<uint32_t>(FaceHeldOut().indices.size());
}
uint32_t NumReservedLandmarkTuples() {
  return static_cast<uint32_t>(LandmarkHeldOut().indices.size());
}

}  // namespace stamina::core
