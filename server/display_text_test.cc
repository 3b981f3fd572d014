#include "server/display_text.h"

#include <string>

#include "gtest/gtest.h"

namespace stamina::server {
namespace {

TEST(Utf8LengthTest, CountsCharactersNotBytes) {
  EXPECT_EQ(Utf8Length("a photo"), 7);
  EXPECT_EQ(Utf8Length("café 東京"), 7);  // 11 bytes
  EXPECT_EQ(Utf8Length("\xF0\x9F\x98\x80"), 1);
  EXPECT_EQ(Utf8Length(""), 0);
  EXPECT_EQ(Utf8Length("\xC3"), std::nullopt);          // truncated
  EXPECT_EQ(Utf8Length("\xC0\xAF"), std::nullopt);      // overlong '/'
  EXPECT_EQ(Utf8Length("\xED\xA0\x80"), std::nullopt);  // a surrogate
}

TEST(SafeFileNameTest, KeepsOrdinaryNames) {
  EXPECT_EQ(SafeFileName("anna-01.jpg"), "anna-01.jpg");
  EXPECT_EQ(SafeFileName("café à la plage.png"), "café à la plage.png");
}

TEST(SafeFileNameTest, DefusesHostileNames) {
  EXPECT_EQ(SafeFileName("../../etc/passwd"), "passwd");
  EXPECT_EQ(SafeFileName("C:\\Users\\x\\a.png"), "a.png");
  EXPECT_EQ(SafeFileName(".."), "image");
  EXPECT_EQ(SafeFileName("dir/"), "image");
  EXPECT_EQ(SafeFileName(std::string("a\0b.png", 7)), "a_b.png");
  EXPECT_EQ(SafeFileName("line\nbreak\r.png"), "line_break_.png");
  EXPECT_EQ(SafeFileName("evil\xE2\x80\xAEgnp.exe"), "evil_gnp.exe");  // RLO
  EXPECT_EQ(SafeFileName("bad\xFF.png"), "bad_.png");
  EXPECT_EQ(SafeFileName("\x1B[31mred"), "_[31mred");
  const std::string long_name(10000, 'x');
  EXPECT_EQ(SafeFileName(long_name).size(), 128u);
  std::string wide;
  for (int i = 0; i < 200; ++i) wide += "東";
  EXPECT_EQ(Utf8Length(SafeFileName(wide)), 128);
}

}  // namespace
}  // namespace stamina::server
