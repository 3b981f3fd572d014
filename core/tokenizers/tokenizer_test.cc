#include "core/tokenizers/tokenizer.h"

#include <cstdint>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::core {
namespace {

using ::testing::ElementsAre;

TEST(ValidateConceptTokenTest, AcceptsAndRejects) {
  STAMINA_EXPECT_OK(ValidateConceptToken("<anna>"));
  STAMINA_EXPECT_OK(ValidateConceptToken("<eiffel_tower-2>"));
  for (const char* bad : {"anna", "<>", "<Anna>", "<an na>", "<anna", "anna>",
                          "<a<b>", "<|endoftext|>", "<anna>x", ""}) {
    EXPECT_THAT(ValidateConceptToken(bad),
                StatusCodeIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
  EXPECT_THAT(ValidateConceptToken("<" + std::string(63, 'a') + ">"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  STAMINA_EXPECT_OK(ValidateConceptToken("<" + std::string(62, 'a') + ">"));
}

TEST(ConceptTokensTest, AddFindSplit) {
  ConceptTokens tokens;
  EXPECT_TRUE(tokens.empty());
  STAMINA_ASSERT_OK(tokens.Add("<anna>", 10));
  STAMINA_ASSERT_OK(tokens.Add("<bob>", 11));
  EXPECT_THAT(tokens.Add("<anna>", 12),
              StatusCodeIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(tokens.Find("<bob>"), 11);
  EXPECT_EQ(tokens.Find("<carl>"), -1);
  ASSERT_NE(tokens.Token(10), nullptr);
  EXPECT_EQ(*tokens.Token(10), "<anna>");
  EXPECT_EQ(tokens.Token(12), nullptr);

  const std::vector<ConceptTokens::Piece> pieces =
      tokens.Split("x<anna><bob> and <carl><anna>");
  ASSERT_EQ(pieces.size(), 5u);
  EXPECT_EQ(pieces[0].text, "x");
  EXPECT_EQ(pieces[0].id, -1);
  EXPECT_EQ(pieces[1].id, 10);
  EXPECT_EQ(pieces[2].id, 11);
  EXPECT_EQ(pieces[3].text, " and <carl>");
  EXPECT_EQ(pieces[4].id, 10);
  EXPECT_TRUE(tokens.Split("").empty());
}

TEST(IsValidUtf8Test, Cases) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xc3\x28"));      // bad continuation
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(FrameTokensTest, PadsAndTruncatesKeepingEos) {
  EXPECT_THAT(FrameTokens({7, 8}, 6, 1, 2, 0), ElementsAre(1, 7, 8, 2, 0, 0));
  EXPECT_THAT(FrameTokens({7, 8, 9, 10, 11}, 5, 1, 2, 0),
              ElementsAre(1, 7, 8, 9, 2));
  EXPECT_THAT(FrameTokens({}, 2, 1, 2, 0), ElementsAre(1, 2));
}

}  // namespace
}  // namespace stamina::core
