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

TEST(CheckTextTest, LimitsCharactersAndNamesTheField) {
  EXPECT_TRUE(CheckText("東京東京", 4, "prompt").ok());  // 12 bytes, 4 characters
  absl::Status status = CheckText("東京東京東", 4, "concept.display_name");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "concept.display_name: 5 characters; the limit is 4");
  status = CheckText("\xFF", 4, "concept.caption_templates[2]");
  EXPECT_EQ(status.message(), "concept.caption_templates[2]: not valid UTF-8");
  EXPECT_EQ(CheckText(std::string(1000000, 'a'), 999999, "x").message(),
            "x: 1000000 characters; the limit is 999999");  // integers, not 1e+06
}

TEST(CheckCaptionTest, NeedsTheTokenOnOneLine) {
  EXPECT_TRUE(CheckCaption("a photo of {} on a beach", "caption").ok());
  EXPECT_EQ(CheckCaption("a photo", "t[0]").message(), "t[0]: must contain {} where the token goes");
  EXPECT_EQ(CheckCaption("{}\nsecond line", "t[1]").message(), "t[1]: must be one line");
  EXPECT_EQ(CheckCaption("{}" + std::string(299, 'a'), "t[2]").message(),
            "t[2]: 301 characters; the limit is 300");
}

TEST(CheckRequestIdTest, PrintableAsciiUpTo128) {
  EXPECT_TRUE(CheckRequestId("").ok());
  EXPECT_TRUE(CheckRequestId("6f1c2a0e-8b7d-4c1e-9f3a-2d5b7e9c1a40").ok());
  EXPECT_TRUE(CheckRequestId(std::string(128, 'k')).ok());
  EXPECT_EQ(CheckRequestId(std::string(129, 'k')).message(),
            "request_id: 129 characters; the limit is 128");
  EXPECT_EQ(CheckRequestId("a b").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckRequestId("caf\xC3\xA9").code(), absl::StatusCode::kInvalidArgument);
}

TEST(CheckWordTest, OneWordWithoutControlsOrConceptTokens) {
  EXPECT_TRUE(CheckWord("face", 64, "settings.token_initializer").ok());
  EXPECT_TRUE(CheckWord("café", 64, "f").ok());
  for (const char* bad : {"a face", "face\n", "<anna>", "\u202eecaf"}) {
    EXPECT_EQ(CheckWord(bad, 64, "w").message(),
              "w: one word (no spaces, control characters or concept tokens)")
        << bad;
  }
  EXPECT_EQ(CheckWord("\xFF", 64, "w").message(), "w: not valid UTF-8");
  EXPECT_EQ(CheckWord(std::string(65, 'a'), 64, "w").message(),
            "w: 65 bytes; the limit is 64");
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
