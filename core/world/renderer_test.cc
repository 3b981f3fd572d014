#include "core/world/renderer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace stamina::core {
namespace {

// Pixels whose colour differs.
int DifferingPixels(const Image& a, const Image& b) {
  int n = 0;
  for (int y = 0; y < a.height; ++y) {
    for (int x = 0; x < a.width; ++x) n += a.At(x, y) != b.At(x, y);
  }
  return n;
}

double MeanAbsDifference(const Image& a, const Image& b) {
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) {
    sum += std::abs(a.pixels[i] - b.pixels[i]);
  }
  return sum / a.pixels.size();
}

// The faces that differ from `base` in exactly one attribute.
std::vector<FaceIdentity> OneAttributeVariants(const FaceIdentity& base) {
  std::vector<FaceIdentity> out;
  for (uint32_t i = 0; i < kNumFaceTuples; ++i) {
    const FaceIdentity f = FaceIdentity::FromTupleIndex(i);
    const int changed =
        (f.eye_shape != base.eye_shape) + (f.eye_color != base.eye_color) +
        (f.mouth != base.mouth) + (f.hair_color != base.hair_color) +
        (f.hair_style != base.hair_style) + (f.skin != base.skin) +
        (f.accessory != base.accessory);
    if (changed == 1) out.push_back(f);
  }
  return out;
}

TEST(RendererTest, SameSeedsGiveIdenticalImages) {
  for (uint64_t seed : {1ULL, 77ULL, 1'000'003ULL}) {
    const RenderParams params = RenderParams::FromSeed(seed);
    EXPECT_EQ(RenderFace(FaceIdentity::FromSeed(seed), params),
              RenderFace(FaceIdentity::FromSeed(seed), params));
    EXPECT_EQ(RenderLandmark(LandmarkIdentity::FromSeed(seed), params),
              RenderLandmark(LandmarkIdentity::FromSeed(seed), params));
    const Sample a = PretrainingSample(seed);
    const Sample b = PretrainingSample(seed);
    EXPECT_EQ(a.image, b.image);
    EXPECT_EQ(a.caption, b.caption);
  }
}

TEST(RendererTest, DifferentSeedsGiveDifferentImages) {
  const FaceIdentity face = FaceIdentity::FromSeed(1'000'000);
  EXPECT_NE(RenderFace(face, RenderParams::FromSeed(1)),
            RenderFace(face, RenderParams::FromSeed(2)));
  const RenderParams params;
  EXPECT_NE(RenderFace(FaceIdentity::FromSeed(1'000'000), params),
            RenderFace(FaceIdentity::FromSeed(1'000'001), params));
  EXPECT_NE(RenderLandmark(LandmarkIdentity::FromSeed(1'000'000), params),
            RenderLandmark(LandmarkIdentity::FromSeed(1'000'001), params));
  std::set<std::vector<uint8_t>> samples;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    samples.insert(PretrainingSample(seed).image.pixels);
  }
  EXPECT_EQ(samples.size(), 50u);
}

TEST(RendererTest, PretrainingNeverDrawsReservedIdentities) {
  int faces = 0, landmarks = 0, shapes = 0;
  for (uint64_t seed = 0; seed < 10000; ++seed) {
    // Size 8 keeps the test fast; the draws do not depend on size.
    const Sample s = PretrainingSample(seed, /*size=*/8);
    ASSERT_FALSE(IsReservedIdentity(s.identity_seed)) << seed;
    faces += s.kind == SceneKind::kFace;
    landmarks += s.kind == SceneKind::kLandmark;
    shapes += s.kind == SceneKind::kShape;
  }
  EXPECT_NEAR(faces, 4000, 300);
  EXPECT_NEAR(landmarks, 3000, 300);
  EXPECT_NEAR(shapes, 3000, 300);
}

TEST(RendererTest, EveryOneAttributeChangeIsVisible) {
  for (uint32_t base_index : {0u, 12345u, kNumFaceTuples - 1}) {
    const FaceIdentity base = FaceIdentity::FromTupleIndex(base_index);
    for (Color bg : {Color::kWhite, Color::kGray}) {
      const RenderParams params{.background = bg};
      const Image a = RenderFace(base, params);
      const std::vector<FaceIdentity> variants = OneAttributeVariants(base);
      ASSERT_EQ(variants.size(), size_t{2 + 3 + 3 + 5 + 4 + 3 + 2});
      for (const FaceIdentity& variant : variants) {
        const Image b = RenderFace(variant, params);
        EXPECT_GE(DifferingPixels(a, b), 4)
            << CaptionFace(base, bg) << " vs " << CaptionFace(variant, bg);
        EXPECT_GT(MeanAbsDifference(a, b), 0.5);
      }
    }
  }
  const RenderParams params{.background = Color::kCyan};
  for (uint32_t i = 0; i < kNumLandmarkTuples; ++i) {
    const LandmarkIdentity l = LandmarkIdentity::FromTupleIndex(i);
    if (l.count == kMaxLandmarkCount) continue;
    LandmarkIdentity more = l;
    more.count += 1;
    EXPECT_GE(DifferingPixels(RenderLandmark(l, params),
                              RenderLandmark(more, params)),
              4)
        << CaptionLandmark(l, params.background);
  }
}

TEST(RendererTest, AttributesAreWhereTheLayoutSays) {
  for (uint32_t i = 0; i < kNumFaceTuples; i += 37) {
    const FaceIdentity face = FaceIdentity::FromTupleIndex(i);
    for (int size : {32, 64}) {
      const Image image = RenderFace(face, RenderParams{.size = size});
      const double unit = size / kDesignSize;
      for (Point eye : {kLeftEyeCenter, kRightEyeCenter}) {
        EXPECT_EQ(image.At(static_cast<int>(eye.x * unit),
                           static_cast<int>(eye.y * unit)),
                  ToRgb(face.eye_color))
            << CaptionFace(face, Color::kWhite) << " size " << size;
      }
      // Cheek: skin, between eye and mouth, clear of glasses and hair.
      EXPECT_EQ(
          image.At(static_cast<int>(10 * unit), static_cast<int>(20 * unit)),
          ToRgb(face.skin));
      // Top corner: background.
      EXPECT_EQ(image.At(0, 0), ToRgb(Color::kWhite));
    }
  }
}

TEST(RendererTest, ShiftMovesTheEyes) {
  const FaceIdentity face = FaceIdentity::FromTupleIndex(0);
  const Image image = RenderFace(
      face, RenderParams{.background = Color::kGray, .pose = {.dx = 3}});
  EXPECT_EQ(image.At(14, 15), ToRgb(face.eye_color));
}

TEST(RendererTest, CaptionsNameTheAttributes) {
  const FaceIdentity face = FaceIdentity::FromSeed(1'000'000);
  const std::string caption = CaptionFace(face, Color::kOrange);
  for (absl::string_view word :
       {Name(face.skin), Name(face.hair_color), Name(face.hair_style),
        Name(face.eye_color), Name(face.eye_shape), Name(face.mouth)}) {
    EXPECT_TRUE(absl::StrContains(caption, word)) << caption << " / " << word;
  }
  EXPECT_TRUE(absl::StrContains(caption, "on an orange background"));
  EXPECT_EQ(CaptionFace(FaceIdentity::FromTupleIndex(0), Color::kGreen),
            "a face with pale skin, black short hair, blue round eyes and a "
            "smiling mouth, on a green background");

  const LandmarkIdentity l{LandmarkType::kTower, Material::kStone,
                           Accent::kGold, 2};
  EXPECT_EQ(CaptionLandmark(l, Color::kBlue),
            "a stone tower with a gold roof and two windows on a blue "
            "background");
  const ShapeSpec s{ShapeKind::kCircle, Color::kRed, ShapeSize::kSmall};
  EXPECT_EQ(CaptionShape(s, Color::kWhite),
            "a small red circle on a white background");
  EXPECT_EQ(CaptionWithToken("<anna>", Color::kRed),
            "a photo of <anna> on a red background");
}

TEST(RendererTest, CaptionWordsAreInTheVocabulary) {
  const std::vector<std::string> vocab = CaptionVocabulary();
  const std::set<std::string> words(vocab.begin(), vocab.end());
  EXPECT_EQ(words.size(), vocab.size());
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    const std::string caption = PretrainingSample(seed, 8).caption;
    for (absl::string_view w :
         absl::StrSplit(caption, absl::ByAnyChar(" ,"), absl::SkipEmpty())) {
      ASSERT_TRUE(words.count(std::string(w))) << w << " in " << caption;
    }
  }
}

TEST(RendererTest, BackgroundsContrastWithTheSubject) {
  for (uint32_t i = 0; i < kNumFaceTuples; ++i) {
    const FaceIdentity face = FaceIdentity::FromTupleIndex(i);
    const std::vector<Color> allowed = ContrastingBackgrounds(face);
    ASSERT_GE(allowed.size(), 3u) << CaptionFace(face, Color::kWhite);
    const Color bg = RenderParams::FromSeed(i, 32, allowed).background;
    EXPECT_NE(std::find(allowed.begin(), allowed.end(), bg), allowed.end());
  }
  for (uint32_t i = 0; i < kNumLandmarkTuples; ++i) {
    const LandmarkIdentity l = LandmarkIdentity::FromTupleIndex(i);
    ASSERT_GE(ContrastingBackgrounds(l).size(), 3u)
        << CaptionLandmark(l, Color::kWhite);
  }
}

TEST(RendererTest, ShapesAndSizes) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const RenderParams params = RenderParams::FromSeed(seed, 64);
    const ShapeSpec shape = ShapeSpec::FromSeed(seed, params.background);
    ASSERT_NE(shape.color, params.background);
    const Image image = RenderShape(shape, params);
    ASSERT_EQ(image.width, 64);
    ASSERT_EQ(image.height, 64);
    int painted = 0;
    for (int y = 0; y < 64; ++y) {
      for (int x = 0; x < 64; ++x)
        painted += image.At(x, y) == ToRgb(shape.color);
    }
    EXPECT_GE(painted, 40) << CaptionShape(shape, params.background);
  }
}

}  // namespace
}  // namespace stamina::core
