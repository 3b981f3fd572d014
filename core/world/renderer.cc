#include "core/world/renderer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/world/prng.h"

namespace stamina::core {
namespace {

constexpr Rgb kMouthColor{190, 20, 50};
constexpr Rgb kHatColor{140, 20, 100};
constexpr Rgb kFrameColor{15, 15, 15};
constexpr Rgb kWindowColor{35, 35, 50};
constexpr Rgb kLampColor{255, 240, 120};

constexpr uint64_t kRenderTag = 0x7e4d;
constexpr uint64_t kShapeTag = 0x5a9e;
constexpr uint64_t kSampleTag = 0x5a3b1e;

Rgb Darken(Rgb c) {
  return {static_cast<uint8_t>(c.r * 6 / 10),
          static_cast<uint8_t>(c.g * 6 / 10),
          static_cast<uint8_t>(c.b * 6 / 10)};
}

void DrawEye(Canvas& canvas, Point c, EyeShape shape, Rgb color) {
  switch (shape) {
    case EyeShape::kRound:
      canvas.Ellipse(c.x, c.y, 2.6, 2.6, color);
      break;
    case EyeShape::kNarrow:
      canvas.Rect(c.x - 3, c.y - 1, c.x + 3, c.y + 1, color);
      break;
    case EyeShape::kDot:
      canvas.Rect(c.x - 1, c.y - 1, c.x + 1, c.y + 1, color);
      break;
  }
}

void DrawHairBack(Canvas& canvas, HairStyle style, Rgb hair) {
  switch (style) {
    case HairStyle::kLong:
      canvas.Ellipse(16, 12, 10, 6.5, hair);
      canvas.Rect(6, 12, 26, 29, hair);
      break;
    case HairStyle::kCurly:
      canvas.Ellipse(16, 13.5, 12.5, 11, hair);
      break;
    case HairStyle::kSpiky:
      for (int i = 0; i < 5; ++i) {
        const double x = 8.5 + 3.75 * i;
        canvas.Polygon({{x - 2.5, 9}, {x + 2.5, 9}, {x, 1.5}}, hair);
      }
      break;
    case HairStyle::kShort:
    case HairStyle::kBun:  // drawn last, on top of any hat
      break;
  }
}

void DrawMouth(Canvas& canvas, Mouth mouth) {
  switch (mouth) {
    case Mouth::kSmile:
      canvas.Rect(12, 23, 20, 25, kMouthColor);
      canvas.Rect(10, 21, 12, 23, kMouthColor);
      canvas.Rect(20, 21, 22, 23, kMouthColor);
      break;
    case Mouth::kFrown:
      canvas.Rect(12, 21, 20, 23, kMouthColor);
      canvas.Rect(10, 23, 12, 25, kMouthColor);
      canvas.Rect(20, 23, 22, 25, kMouthColor);
      break;
    case Mouth::kNeutral:
      canvas.Rect(11, 22, 21, 24, kMouthColor);
      break;
    case Mouth::kOpen:
      canvas.Ellipse(16, 23, 3, 3, kMouthColor);
      break;
  }
}

void DrawGlasses(Canvas& canvas) {
  for (double x0 : {7.0, 17.0}) {
    canvas.Rect(x0, 12, x0 + 8, 13, kFrameColor);
    canvas.Rect(x0, 18, x0 + 8, 19, kFrameColor);
    canvas.Rect(x0, 12, x0 + 1, 19, kFrameColor);
    canvas.Rect(x0 + 7, 12, x0 + 8, 19, kFrameColor);
  }
  canvas.Rect(15, 14, 17, 15, kFrameColor);
}

// Openings of an arcade between x0 and x1 (pillars 3 units wide), cut in the
// background colour from `top` down to the ground.
void CutArches(Canvas& canvas, double x0, double x1, double top, int n,
               Rgb background) {
  const double pillar = 3;
  const double w = (x1 - x0 - pillar * (n + 1)) / n;
  const double r = std::min(w / 2, 4.0);
  for (int i = 0; i < n; ++i) {
    const double left = x0 + pillar + i * (w + pillar);
    canvas.Ellipse(left + w / 2, top + r, w / 2, r, background);
    canvas.Rect(left, top + r, left + w, 28, background);
  }
}

// Horizontal band [y, y + h) clipped to the pyramid (3,28)-(29,28)-(16,5).
void PyramidBand(Canvas& canvas, double y, double h, Rgb color) {
  auto half = [](double yy) { return 13.0 * (yy - 5) / 23; };
  canvas.Polygon({{16 - half(y), y},
                  {16 + half(y), y},
                  {16 + half(y + h), y + h},
                  {16 - half(y + h), y + h}},
                 color);
}

void DrawLandmarkBody(Canvas& canvas, const LandmarkIdentity& l,
                      Rgb background) {
  const Rgb m = ToRgb(l.material);
  const Rgb a = ToRgb(l.accent);
  const int n = l.count;
  switch (l.type) {
    case LandmarkType::kTower:
      canvas.Rect(12, 9, 20, 28, m);
      canvas.Polygon({{10, 9.5}, {22, 9.5}, {16, 2}}, a);
      for (int i = 0; i < n; ++i) {
        canvas.Rect(15, 12 + 5 * i, 17, 15 + 5 * i, kWindowColor);
      }
      break;
    case LandmarkType::kBridge:
      canvas.Rect(2, 12, 30, 15, a);
      canvas.Rect(2, 15, 30, 28, m);
      CutArches(canvas, 2, 30, 19, n, background);
      break;
    case LandmarkType::kMill:
      canvas.Polygon({{10.5, 28}, {21.5, 28}, {19, 12}, {13, 12}}, m);
      for (int i = 0; i < n; ++i) {
        canvas.Rect(15, 15 + 4.5 * i, 17, 17.5 + 4.5 * i, kWindowColor);
      }
      canvas.Bar({7, 2}, {25, 20}, 2.5, a);
      canvas.Bar({25, 2}, {7, 20}, 2.5, a);
      canvas.Ellipse(16, 11, 1.6, 1.6, Darken(m));
      break;
    case LandmarkType::kPyramid:
      canvas.Polygon({{3, 28}, {29, 28}, {16, 5}}, m);
      for (int i = 1; i <= n; ++i) {
        PyramidBand(canvas, 11 + 17.0 * i / (n + 1) - 0.75, 1.5, Darken(m));
      }
      PyramidBand(canvas, 5, 7, a);
      break;
    case LandmarkType::kArch:
      canvas.Rect(5, 9, 27, 28, m);
      canvas.Rect(4, 6, 28, 9, a);
      CutArches(canvas, 5, 27, 13, n, background);
      break;
    case LandmarkType::kLighthouse:
      canvas.Polygon({{10.5, 28}, {21.5, 28}, {19, 9}, {13, 9}}, m);
      for (int i = 0; i < n; ++i) {
        const double y = 11 + 16.0 * (i + 0.5) / n - 1.25;
        const double half_top = 3 + 2.5 * (y - 9) / 19;
        const double half_bottom = 3 + 2.5 * (y + 2.5 - 9) / 19;
        canvas.Polygon({{16 - half_top, y},
                        {16 + half_top, y},
                        {16 + half_bottom, y + 2.5},
                        {16 - half_bottom, y + 2.5}},
                       a);
      }
      canvas.Rect(13.5, 5.5, 18.5, 9, kLampColor);
      canvas.Polygon({{12, 5.5}, {20, 5.5}, {16, 1.5}}, a);
      break;
  }
}

// Colours closer than this (Euclidean RGB) are hard to tell apart at 32 x 32.
constexpr double kMinContrast = 100;

double Distance(Rgb a, Rgb b) {
  const double dr = a.r - b.r, dg = a.g - b.g, db = a.b - b.b;
  return std::sqrt(dr * dr + dg * dg + db * db);
}

std::vector<Color> BackgroundsAvoiding(std::initializer_list<Rgb> colors) {
  std::vector<Color> out;
  for (Color bg : BackgroundColors()) {
    bool ok = true;
    for (Rgb c : colors) ok = ok && Distance(ToRgb(bg), c) >= kMinContrast;
    if (ok) out.push_back(bg);
  }
  return out;
}

// "a" or "an" before `word`.
absl::string_view Article(absl::string_view word) {
  return !word.empty() && absl::StrContains("aeiou", word[0]) ? "an" : "a";
}

double ShapeRadius(ShapeSize size) {
  switch (size) {
    case ShapeSize::kSmall:
      return 4;
    case ShapeSize::kMedium:
      return 6.5;
    case ShapeSize::kLarge:
      return 9;
  }
  return 6.5;
}

std::string CountPhrase(int n, absl::string_view noun,
                        absl::string_view plural) {
  static constexpr const char* kNumbers[] = {"zero", "one", "two", "three"};
  return absl::StrCat(kNumbers[std::clamp(n, 0, 3)], " ",
                      n == 1 ? noun : plural);
}

}  // namespace

RenderParams RenderParams::FromSeed(uint64_t render_seed, int size,
                                    const std::vector<Color>& allowed) {
  SplitMix64 rng(DeriveSeed(render_seed, kRenderTag));
  RenderParams p;
  p.size = size;
  const std::vector<Color>& backgrounds =
      allowed.empty() ? BackgroundColors() : allowed;
  p.background = backgrounds[rng.Below(backgrounds.size())];
  p.pose.dx = rng.Uniform(-2.5, 2.5);
  p.pose.dy = rng.Uniform(-2.5, 2.5);
  p.pose.scale = rng.Uniform(0.9, 1.1);
  p.pose.flip = rng.Bernoulli(0.5);
  return p;
}

ShapeSpec ShapeSpec::FromSeed(uint64_t seed, Color background) {
  SplitMix64 rng(DeriveSeed(seed, kShapeTag));
  ShapeSpec s;
  s.kind = static_cast<ShapeKind>(rng.Below(kNumShapeKinds));
  std::vector<Color> colors;
  for (int i = 0; i < kNumColors; ++i) {
    const Color c = static_cast<Color>(i);
    if (Distance(ToRgb(c), ToRgb(background)) >= kMinContrast) {
      colors.push_back(c);
    }
  }
  s.color = colors[rng.Below(colors.size())];
  s.size = static_cast<ShapeSize>(rng.Below(kNumShapeSizes));
  const double r = ShapeRadius(s.size);
  s.x = rng.Uniform(r + 2, kDesignSize - r - 2);
  s.y = rng.Uniform(r + 2, kDesignSize - r - 2);
  return s;
}

std::vector<Color> ContrastingBackgrounds(const FaceIdentity& face) {
  return BackgroundsAvoiding({ToRgb(face.hair_color), ToRgb(face.skin)});
}

std::vector<Color> ContrastingBackgrounds(const LandmarkIdentity& landmark) {
  return BackgroundsAvoiding(
      {ToRgb(landmark.material), ToRgb(landmark.accent)});
}

Image RenderFace(const FaceIdentity& face, const RenderParams& params) {
  Image image(params.size, params.size);
  Canvas canvas(&image, params.pose);
  canvas.Fill(ToRgb(params.background));
  const Rgb skin = ToRgb(face.skin);
  const Rgb hair = ToRgb(face.hair_color);
  DrawHairBack(canvas, face.hair_style, hair);
  canvas.Rect(13, 25, 19, 32, skin);  // neck
  canvas.Ellipse(16, 17.5, 8.5, 10, skin);
  canvas.Ellipse(16, 9.5, 8.6, 3.6, hair);  // every style covers the crown
  if (face.hair_style == HairStyle::kLong) {
    canvas.Rect(7, 9.5, 9, 22, hair);
    canvas.Rect(23, 9.5, 25, 22, hair);
  }
  DrawEye(canvas, kLeftEyeCenter, face.eye_shape, ToRgb(face.eye_color));
  DrawEye(canvas, kRightEyeCenter, face.eye_shape, ToRgb(face.eye_color));
  DrawMouth(canvas, face.mouth);
  if (face.accessory == Accessory::kGlasses) DrawGlasses(canvas);
  if (face.accessory == Accessory::kHat) {
    canvas.Rect(9.5, 1, 22.5, 8, kHatColor);
    canvas.Rect(5, 7, 27, 9, kHatColor);
  }
  if (face.hair_style == HairStyle::kBun) canvas.Ellipse(16, 4, 3.5, 3.5, hair);
  return image;
}

Image RenderLandmark(const LandmarkIdentity& landmark,
                     const RenderParams& params) {
  Image image(params.size, params.size);
  Canvas canvas(&image, params.pose);
  canvas.Fill(ToRgb(params.background));
  DrawLandmarkBody(canvas, landmark, ToRgb(params.background));
  return image;
}

Image RenderShape(const ShapeSpec& shape, const RenderParams& params) {
  Image image(params.size, params.size);
  Canvas canvas(&image, params.pose);
  canvas.Fill(ToRgb(params.background));
  const Rgb c = ToRgb(shape.color);
  const double r = ShapeRadius(shape.size);
  const double x = shape.x;
  const double y = shape.y;
  switch (shape.kind) {
    case ShapeKind::kCircle:
      canvas.Ellipse(x, y, r, r, c);
      break;
    case ShapeKind::kSquare:
      canvas.Rect(x - 0.85 * r, y - 0.85 * r, x + 0.85 * r, y + 0.85 * r, c);
      break;
    case ShapeKind::kTriangle:
      canvas.Polygon({{x, y - r}, {x + r, y + 0.8 * r}, {x - r, y + 0.8 * r}},
                     c);
      break;
    case ShapeKind::kDiamond:
      canvas.Polygon({{x, y - r}, {x + r, y}, {x, y + r}, {x - r, y}}, c);
      break;
    case ShapeKind::kCross:
      canvas.Rect(x - r, y - 0.3 * r, x + r, y + 0.3 * r, c);
      canvas.Rect(x - 0.3 * r, y - r, x + 0.3 * r, y + r, c);
      break;
    case ShapeKind::kRing:
      canvas.Ring(x, y, r, r * 0.5, c);
      break;
  }
  return image;
}

std::string CaptionFace(const FaceIdentity& face, Color background) {
  std::string accessory;
  if (face.accessory == Accessory::kGlasses) accessory = ", wearing glasses";
  if (face.accessory == Accessory::kHat) accessory = ", wearing a hat";
  return absl::StrCat(
      "a face with ", Name(face.skin), " skin, ", Name(face.hair_color), " ",
      Name(face.hair_style), " hair, ", Name(face.eye_color), " ",
      Name(face.eye_shape), " eyes and ",
      face.mouth == Mouth::kOpen ? "an " : "a ", Name(face.mouth), " mouth",
      accessory, ", on ", Article(Name(background)), " ", Name(background),
      " background");
}

std::string CaptionLandmark(const LandmarkIdentity& l, Color background) {
  const absl::string_view accent = Name(l.accent);
  std::string details;
  switch (l.type) {
    case LandmarkType::kTower:
      details = absl::StrCat("a ", accent, " roof and ",
                             CountPhrase(l.count, "window", "windows"));
      break;
    case LandmarkType::kBridge:
      details = absl::StrCat("a ", accent, " railing and ",
                             CountPhrase(l.count, "arch", "arches"));
      break;
    case LandmarkType::kMill:
      details = absl::StrCat(accent, " sails and ",
                             CountPhrase(l.count, "window", "windows"));
      break;
    case LandmarkType::kPyramid:
      details = absl::StrCat("a ", accent, " top and ",
                             CountPhrase(l.count, "step", "steps"));
      break;
    case LandmarkType::kArch:
      details = absl::StrCat("a ", accent, " top and ",
                             CountPhrase(l.count, "opening", "openings"));
      break;
    case LandmarkType::kLighthouse:
      details = absl::StrCat(accent, " roof and ",
                             CountPhrase(l.count, "stripe", "stripes"));
      details = absl::StrCat("a ", details);
      break;
  }
  return absl::StrCat("a ", Name(l.material), " ", Name(l.type), " with ",
                      details, " on ", Article(Name(background)), " ",
                      Name(background), " background");
}

std::string CaptionShape(const ShapeSpec& shape, Color background) {
  return absl::StrCat("a ", Name(shape.size), " ", Name(shape.color), " ",
                      Name(shape.kind), " on ", Article(Name(background)), " ",
                      Name(background), " background");
}

std::string CaptionWithToken(absl::string_view token, Color background) {
  return absl::StrCat("a photo of ", token, " on ", Article(Name(background)),
                      " ", Name(background), " background");
}

std::vector<std::string> CaptionVocabulary() {
  std::vector<std::string> words = {
      "a",       "an",       "face",   "with",    "skin",  "hair",
      "eyes",    "and",      "mouth",  "wearing", "on",    "background",
      "photo",   "of",       "roof",   "railing", "sails", "top",
      "window",  "windows",  "arch",   "arches",  "step",  "steps",
      "opening", "openings", "stripe", "stripes", "one",   "two",
      "three"};
  auto add = [&](absl::string_view w) {
    if (w == "none") return;
    if (std::find(words.begin(), words.end(), w) == words.end()) {
      words.emplace_back(w);
    }
  };
  for (int i = 0; i < kNumColors; ++i) add(Name(static_cast<Color>(i)));
  for (int i = 0; i < kNumEyeShapes; ++i) add(Name(static_cast<EyeShape>(i)));
  for (int i = 0; i < kNumEyeColors; ++i) add(Name(static_cast<EyeColor>(i)));
  for (int i = 0; i < kNumMouths; ++i) add(Name(static_cast<Mouth>(i)));
  for (int i = 0; i < kNumHairColors; ++i) {
    add(Name(static_cast<HairColor>(i)));
  }
  for (int i = 0; i < kNumHairStyles; ++i) {
    add(Name(static_cast<HairStyle>(i)));
  }
  for (int i = 0; i < kNumSkinTones; ++i) add(Name(static_cast<SkinTone>(i)));
  for (int i = 0; i < kNumAccessories; ++i) {
    add(Name(static_cast<Accessory>(i)));
  }
  for (int i = 0; i < kNumLandmarkTypes; ++i) {
    add(Name(static_cast<LandmarkType>(i)));
  }
  for (int i = 0; i < kNumMaterials; ++i) add(Name(static_cast<Material>(i)));
  for (int i = 0; i < kNumAccents; ++i) add(Name(static_cast<Accent>(i)));
  for (int i = 0; i < kNumShapeKinds; ++i) add(Name(static_cast<ShapeKind>(i)));
  for (int i = 0; i < kNumShapeSizes; ++i) add(Name(static_cast<ShapeSize>(i)));
  return words;
}

Sample PretrainingSample(uint64_t sample_seed, int size) {
  SplitMix64 rng(DeriveSeed(sample_seed, kSampleTag));
  const uint32_t pick = rng.Below(10);
  const uint64_t render_seed = rng.Next();
  Sample sample;
  if (pick < 4) {
    sample.kind = SceneKind::kFace;
    sample.identity_seed = rng.Next() % kReservedIdentitySeedStart;
    const FaceIdentity face = FaceIdentity::FromSeed(sample.identity_seed);
    const RenderParams params =
        RenderParams::FromSeed(render_seed, size, ContrastingBackgrounds(face));
    sample.image = RenderFace(face, params);
    sample.caption = CaptionFace(face, params.background);
  } else if (pick < 7) {
    sample.kind = SceneKind::kLandmark;
    sample.identity_seed = rng.Next() % kReservedIdentitySeedStart;
    const LandmarkIdentity landmark =
        LandmarkIdentity::FromSeed(sample.identity_seed);
    const RenderParams params = RenderParams::FromSeed(
        render_seed, size, ContrastingBackgrounds(landmark));
    sample.image = RenderLandmark(landmark, params);
    sample.caption = CaptionLandmark(landmark, params.background);
  } else {
    sample.kind = SceneKind::kShape;
    const RenderParams params = RenderParams::FromSeed(render_seed, size);
    const ShapeSpec shape = ShapeSpec::FromSeed(rng.Next(), params.background);
    sample.image = RenderShape(shape, params);
    sample.caption = CaptionShape(shape, params.background);
  }
  return sample;
}

}  // namespace stamina::core
