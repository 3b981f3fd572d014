#include "core/tokenizers/word_tokenizer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::core {
namespace {

using ::testing::ElementsAre;

std::unique_ptr<WordTokenizer> Make(int max_length = 10) {
  absl::StatusOr<std::unique_ptr<WordTokenizer>> t =
      WordTokenizer::Create({"a", "face", "with", "Red", "hair", "on",
                             "background", "photo", "of", "red"},
                            max_length);
  EXPECT_TRUE(t.ok()) << t.status();
  return std::move(t).value();
}

TEST(WordTokenizerTest, VocabularyLayout) {
  const std::unique_ptr<WordTokenizer> t = Make();
  EXPECT_EQ(t->vocab_size(), 3 + 9);  // "Red" and "red" are one word
  EXPECT_THAT(t->TokenId("<|startoftext|>"), IsOkAndHolds(0));
  EXPECT_THAT(t->TokenId("<|endoftext|>"), IsOkAndHolds(1));
  EXPECT_THAT(t->TokenId("<|unk|>"), IsOkAndHolds(2));
  EXPECT_THAT(t->TokenId("a"), IsOkAndHolds(3));
  EXPECT_THAT(t->TokenId("red"), IsOkAndHolds(6));
  EXPECT_THAT(t->TokenId("blue"), StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(t->bos_id(), 0);
  EXPECT_EQ(t->eos_id(), 1);
  EXPECT_EQ(t->pad_id(), 1);
  EXPECT_EQ(t->max_length(), 10);
}

TEST(WordTokenizerTest, EncodeLowercasesSplitsAndPads) {
  const std::unique_ptr<WordTokenizer> t = Make();
  EXPECT_THAT(t->Encode("A face, with  RED hair!"),
              IsOkAndHolds(ElementsAre(0, 3, 4, 5, 6, 7, 1, 1, 1, 1)));
  EXPECT_THAT(t->Encode(""),
              IsOkAndHolds(ElementsAre(0, 1, 1, 1, 1, 1, 1, 1, 1, 1)));
}

TEST(WordTokenizerTest, UnknownWordsAndTruncation) {
  const std::unique_ptr<WordTokenizer> t = Make(/*max_length=*/5);
  EXPECT_THAT(t->Encode("a blue caf\xc3\xa9"),
              IsOkAndHolds(ElementsAre(0, 3, 2, 2, 1)));
  EXPECT_THAT(t->Encode("a face with red hair"),
              IsOkAndHolds(ElementsAre(0, 3, 4, 5, 1)));
  EXPECT_THAT(t->Encode("bad \xff"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST(WordTokenizerTest, ConceptTokens) {
  const std::unique_ptr<WordTokenizer> t = Make(12);
  EXPECT_THAT(t->AddToken("<anna>"), IsOkAndHolds(12));
  EXPECT_THAT(t->AddToken("<bob>"), IsOkAndHolds(13));
  EXPECT_EQ(t->vocab_size(), 14);
  EXPECT_THAT(t->AddToken("<anna>"),
              StatusCodeIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(t->AddToken("anna"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(t->TokenId("<bob>"), IsOkAndHolds(13));
  // Matched before splitting, case-insensitively, even inside words.
  EXPECT_THAT(
      t->Encode("a photo of <Anna>, <bob>'s face<anna>x"),
      IsOkAndHolds(ElementsAre(0, 3, 10, 11, 12, 13, 2, 4, 12, 2, 1, 1)));
  EXPECT_THAT(t->Encode("a <carl>"),
              IsOkAndHolds(ElementsAre(0, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1)));
}

TEST(WordTokenizerTest, DecodeRoundTrip) {
  const std::unique_ptr<WordTokenizer> t = Make(16);
  ASSERT_THAT(t->AddToken("<anna>"), IsOk());
  STAMINA_ASSERT_OK_AND_ASSIGN(
      std::vector<int32_t> ids,
      t->Encode("A photo of <anna> on a red background."));
  EXPECT_THAT(t->Decode(ids),
              IsOkAndHolds("a photo of <anna> on a red background"));
  EXPECT_THAT(t->Decode({0, 3, 2, 1}), IsOkAndHolds("a <|unk|>"));
  EXPECT_THAT(t->Decode({3, 99}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(t->Decode({-1}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST(WordTokenizerTest, CreateRejectsBadInput) {
  EXPECT_THAT(WordTokenizer::Create({"two words"}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(WordTokenizer::Create({""}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(WordTokenizer::Create({"it's"}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(WordTokenizer::Create({"a"}, 1),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST(WordTokenizerTest, SplitWords) {
  EXPECT_THAT(WordTokenizer::SplitWords(" Anna's  cat,dog\t42 "),
              ElementsAre("anna", "s", "cat", "dog", "42"));
}

}  // namespace
}  // namespace stamina::core
