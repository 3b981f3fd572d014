#include "core/world/attributes.h"

#include <cmath>
#include <cstdint>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace stamina::core {
namespace {

double Distance(Rgb a, Rgb b) {
  const double dr = a.r - b.r, dg = a.g - b.g, db = a.b - b.b;
  return std::sqrt(dr * dr + dg * dg + db * db);
}

TEST(AttributesTest, TupleIndexRoundTrips) {
  for (uint32_t i = 0; i < kNumFaceTuples; ++i) {
    ASSERT_EQ(FaceIdentity::FromTupleIndex(i).TupleIndex(), i);
  }
  for (uint32_t i = 0; i < kNumLandmarkTuples; ++i) {
    const LandmarkIdentity l = LandmarkIdentity::FromTupleIndex(i);
    ASSERT_EQ(l.TupleIndex(), i);
    ASSERT_GE(l.count, 1);
    ASSERT_LE(l.count, kMaxLandmarkCount);
  }
}

template <typename E>
std::set<std::string> Names(int n) {
  std::set<std::string> names;
  for (int i = 0; i < n; ++i) names.emplace(Name(static_cast<E>(i)));
  return names;
}

TEST(AttributesTest, NamesAreDistinctPerAttribute) {
  EXPECT_EQ(Names<Color>(kNumColors).size(), size_t{kNumColors});
  EXPECT_EQ(Names<EyeShape>(kNumEyeShapes).size(), size_t{kNumEyeShapes});
  EXPECT_EQ(Names<EyeColor>(kNumEyeColors).size(), size_t{kNumEyeColors});
  EXPECT_EQ(Names<Mouth>(kNumMouths).size(), size_t{kNumMouths});
  EXPECT_EQ(Names<HairColor>(kNumHairColors).size(), size_t{kNumHairColors});
  EXPECT_EQ(Names<HairStyle>(kNumHairStyles).size(), size_t{kNumHairStyles});
  EXPECT_EQ(Names<SkinTone>(kNumSkinTones).size(), size_t{kNumSkinTones});
  EXPECT_EQ(Names<Accessory>(kNumAccessories).size(), size_t{kNumAccessories});
  EXPECT_EQ(Names<LandmarkType>(kNumLandmarkTypes).size(),
            size_t{kNumLandmarkTypes});
  EXPECT_EQ(Names<Material>(kNumMaterials).size(), size_t{kNumMaterials});
  EXPECT_EQ(Names<Accent>(kNumAccents).size(), size_t{kNumAccents});
  EXPECT_EQ(Names<ShapeKind>(kNumShapeKinds).size(), size_t{kNumShapeKinds});
  EXPECT_EQ(Names<ShapeSize>(kNumShapeSizes).size(), size_t{kNumShapeSizes});
}

TEST(AttributesTest, ColoursAreFarApart) {
  for (int e = 0; e < kNumEyeColors; ++e) {
    for (int s = 0; s < kNumSkinTones; ++s) {
      EXPECT_GE(Distance(ToRgb(static_cast<EyeColor>(e)),
                         ToRgb(static_cast<SkinTone>(s))),
                100)
          << Name(static_cast<EyeColor>(e)) << " on "
          << Name(static_cast<SkinTone>(s));
    }
    for (int f = 0; f < e; ++f) {
      EXPECT_GE(Distance(ToRgb(static_cast<EyeColor>(e)),
                         ToRgb(static_cast<EyeColor>(f))),
                100);
    }
  }
  for (int a = 0; a < kNumHairColors; ++a) {
    for (int b = 0; b < a; ++b) {
      EXPECT_GE(Distance(ToRgb(static_cast<HairColor>(a)),
                         ToRgb(static_cast<HairColor>(b))),
                80);
    }
  }
  for (int a = 0; a < kNumSkinTones; ++a) {
    for (int b = 0; b < a; ++b) {
      EXPECT_GE(Distance(ToRgb(static_cast<SkinTone>(a)),
                         ToRgb(static_cast<SkinTone>(b))),
                60);
    }
  }
  for (int a = 0; a < kNumAccents; ++a) {
    for (int m = 0; m < kNumMaterials; ++m) {
      EXPECT_GE(Distance(ToRgb(static_cast<Accent>(a)),
                         ToRgb(static_cast<Material>(m))),
                100);
    }
  }
}

TEST(AttributesTest, FromSeedIsDeterministic) {
  for (uint64_t seed : {0ULL, 1ULL, 999'999ULL, 1'000'000ULL, 5'000'123ULL}) {
    EXPECT_EQ(FaceIdentity::FromSeed(seed), FaceIdentity::FromSeed(seed));
    EXPECT_EQ(LandmarkIdentity::FromSeed(seed),
              LandmarkIdentity::FromSeed(seed));
  }
}

TEST(AttributesTest, ReservedSplit) {
  EXPECT_FALSE(IsReservedIdentity(0));
  EXPECT_FALSE(IsReservedIdentity(kReservedIdentitySeedStart - 1));
  EXPECT_TRUE(IsReservedIdentity(kReservedIdentitySeedStart));
}

TEST(AttributesTest, ReservedTuplesNeverComeFromPretrainingSeeds) {
  std::set<uint32_t> faces, landmarks;
  for (uint64_t seed = 0; seed < 20000; ++seed) {
    const uint32_t f = FaceIdentity::FromSeed(seed).TupleIndex();
    const uint32_t l = LandmarkIdentity::FromSeed(seed).TupleIndex();
    ASSERT_FALSE(IsHeldOutFaceTuple(f)) << seed;
    ASSERT_FALSE(IsHeldOutLandmarkTuple(l)) << seed;
    faces.insert(f);
    landmarks.insert(l);
  }
  EXPECT_EQ(landmarks.size(), kNumLandmarkTuples - NumReservedLandmarkTuples());
  EXPECT_GT(faces.size(), 10000u);
  for (uint64_t k = 0; k < 5000; ++k) {
    const uint64_t seed = kReservedIdentitySeedStart + k;
    ASSERT_TRUE(IsHeldOutFaceTuple(FaceIdentity::FromSeed(seed).TupleIndex()));
    ASSERT_TRUE(
        IsHeldOutLandmarkTuple(LandmarkIdentity::FromSeed(seed).TupleIndex()));
  }
}

TEST(AttributesTest, FirstReservedIdentitiesAreDistinct) {
  EXPECT_GT(NumReservedFaceTuples(), kNumFaceTuples / 10);
  EXPECT_LT(NumReservedFaceTuples(), kNumFaceTuples / 6);
  EXPECT_GT(NumReservedLandmarkTuples(), 30u);
  std::set<uint32_t> faces, landmarks;
  for (uint64_t k = 0; k < NumReservedFaceTuples(); ++k) {
    faces.insert(
        FaceIdentity::FromSeed(kReservedIdentitySeedStart + k).TupleIndex());
  }
  for (uint64_t k = 0; k < NumReservedLandmarkTuples(); ++k) {
    landmarks.insert(LandmarkIdentity::FromSeed(kReservedIdentitySeedStart + k)
                         .TupleIndex());
  }
  EXPECT_EQ(faces.size(), NumReservedFaceTuples());
  EXPECT_EQ(landmarks.size(), NumReservedLandmarkTuples());
  // Neighbouring reserved seeds are not neighbouring tuples.
  const FaceIdentity a = FaceIdentity::FromSeed(kReservedIdentitySeedStart);
  const FaceIdentity b = FaceIdentity::FromSeed(kReservedIdentitySeedStart + 1);
  EXPECT_GT(b.TupleIndex() > a.TupleIndex() ? b.TupleIndex() - a.TupleIndex()
                                            : a.TupleIndex() - b.TupleIndex(),
            100u);
}

}  // namespace
}  // namespace stamina::core
