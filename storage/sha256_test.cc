#include "storage/sha256.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace stamina::storage {
namespace {

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, IncrementalEqualsOneShot) {
  Sha256Hasher hasher;
  hasher.Update("a");
  hasher.Update("");
  hasher.Update("bc");
  EXPECT_EQ(hasher.FinishHex(), Sha256Hex("abc"));
}

TEST(Sha256Test, RecognizesDigests) {
  EXPECT_TRUE(IsSha256Hex(Sha256Hex("x")));
  EXPECT_FALSE(IsSha256Hex(""));
  EXPECT_FALSE(IsSha256Hex(std::string(64, 'A')));
  EXPECT_FALSE(IsSha256Hex(std::string(63, 'a')));
  EXPECT_FALSE(IsSha256Hex("../" + std::string(61, 'a')));
}

TEST(RandomHexTest, LengthAndUniqueness) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string hex = RandomHex(32);
    ASSERT_EQ(hex.size(), 64u);
    ASSERT_TRUE(IsSha256Hex(hex));
    seen.insert(hex);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace stamina::storage
