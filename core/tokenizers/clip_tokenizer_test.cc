#include "core/tokenizers/clip_tokenizer.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int32_t kBos = 49406;
constexpr int32_t kEos = 49407;

// A tiny vocabulary in CLIP's format, with CLIP's special-token ids. The
// expected ids in the tests below were derived by hand from these merges.
constexpr char kVocabJson[] = R"({
  "a": 0, "c": 1, "h": 2, "i": 3, "o": 4, "p": 5, "t": 6, "'": 7, "!": 8,
  "a</w>": 9, "t</w>": 10, "s</w>": 11, "!</w>": 12, "1</w>": 13,
  "2</w>": 14, "o</w>": 15, "ho": 16, "pho": 17, "to</w>": 18, "at</w>": 19,
  "cat</w>": 20, "'s</w>": 21, "\u00c3": 22, "\u00a9</w>": 23,
  "<|startoftext|>": 49406, "<|endoftext|>": 49407
})";
constexpr char kMergesTxt[] =
    "#version: 0.2\n"
    "h o\n"
    "p ho\n"
    "t o</w>\n"
    "a t</w>\n"
    "c at</w>\n"
    "' s</w>\n";

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  std::fwrite(contents.data(), 1, contents.size(), f);
  std::fclose(f);
}

std::unique_ptr<CLIPTokenizer> LoadFixture(int max_length = 8) {
  const std::string vocab = TempPath("vocab.json");
  const std::string merges = TempPath("merges.txt");
  WriteFile(vocab, kVocabJson);
  WriteFile(merges, kMergesTxt);
  absl::StatusOr<std::unique_ptr<CLIPTokenizer>> t =
      CLIPTokenizer::Load(vocab, merges, {.max_length = max_length});
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(t).value() : nullptr;
}

TEST(CLIPTokenizerTest, ByteToUnicodeMatchesGpt2Table) {
  EXPECT_EQ(ByteToUnicode('a'), "a");
  EXPECT_EQ(ByteToUnicode('!'), "!");
  EXPECT_EQ(ByteToUnicode(' '), "\xc4\xa0");   // U+0120 'Ġ'
  EXPECT_EQ(ByteToUnicode(0x00), "\xc4\x80");  // U+0100
  EXPECT_EQ(ByteToUnicode(0xad), "\xc5\x83");  // U+0143 'Ń'
  EXPECT_EQ(ByteToUnicode(0xc3), "\xc3\x83");  // itself, U+00C3
}

TEST(CLIPTokenizerTest, SpecialIdsAndSizes) {
  const std::unique_ptr<CLIPTokenizer> t = LoadFixture();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->bos_id(), kBos);
  EXPECT_EQ(t->eos_id(), kEos);
  EXPECT_EQ(t->pad_id(), kEos);
  EXPECT_EQ(t->vocab_size(), 49408);
  EXPECT_EQ(t->max_length(), 8);
  EXPECT_THAT(t->TokenId("cat</w>"), IsOkAndHolds(20));
  EXPECT_THAT(t->TokenId("dog</w>"), StatusCodeIs(absl::StatusCode::kNotFound));
}

TEST(CLIPTokenizerTest, PreTokenize) {
  EXPECT_THAT(CLIPTokenizer::PreTokenize("it's a <x>!! 42 caf\xc3\xa9 don't"),
              ElementsAre("it", "'s", "a", "<", "x", ">!!", "4", "2",
                          "caf\xc3\xa9", "don", "'t"));
  EXPECT_THAT(CLIPTokenizer::PreTokenize("<|startoftext|>hi<|endoftext|>"),
              ElementsAre("<|startoftext|>", "hi", "<|endoftext|>"));
}

TEST(CLIPTokenizerTest, BpeMergesByRank) {
  const std::unique_ptr<CLIPTokenizer> t = LoadFixture();
  ASSERT_NE(t, nullptr);
  EXPECT_THAT(t->Bpe("photo"), ElementsAre("pho", "to</w>"));
  EXPECT_THAT(t->Bpe("cat"), ElementsAre("cat</w>"));
  EXPECT_THAT(t->Bpe("hat"), ElementsAre("h", "at</w>"));
  EXPECT_THAT(t->Bpe("a"), ElementsAre("a</w>"));
  EXPECT_THAT(t->Bpe("'s"), ElementsAre("'s</w>"));
}

TEST(CLIPTokenizerTest, EncodeHandDerived) {
  const std::unique_ptr<CLIPTokenizer> t = LoadFixture();
  ASSERT_NE(t, nullptr);
  EXPECT_THAT(
      t->Encode("a cat"),
      IsOkAndHolds(ElementsAre(kBos, 9, 20, kEos, kEos, kEos, kEos, kEos)));
  // Clean-up: lowercase, whitespace runs; "!!" is one pre-token.
  EXPECT_THAT(t->Encode("  A \n Photo!!  "),
              IsOkAndHolds(ElementsAre(kBos, 9, 17, 18, 8, 12, kEos, kEos)));
  // Contraction and single digits.
  EXPECT_THAT(t->Encode("it's 12"),
              IsOkAndHolds(ElementsAre(kBos, 3, 10, 21, 13, 14, kEos, kEos)));
  // Special strings in the text map to their ids.
  EXPECT_THAT(
      t->Encode("<|startoftext|>a<|endoftext|>"),
      IsOkAndHolds(ElementsAre(kBos, kBos, 9, kEos, kEos, kEos, kEos, kEos)));
}

TEST(CLIPTokenizerTest, UnknownPiecesBecomeUnk) {
  const std::unique_ptr<CLIPTokenizer> t = LoadFixture();
  ASSERT_NE(t, nullptr);
  // "oh" -> "o" + "h</w>" (not in the vocabulary); "z</w>" neither.
  EXPECT_THAT(
      t->Encode("hat oh z"),
      IsOkAndHolds(ElementsAre(kBos, 2, 19, 4, kEos, kEos, kEos, kEos)));
  // Non-ASCII: "é" is bytes C3 A9 -> "Ã" "©</w>".
  EXPECT_THAT(
      t->Encode("\xc3\xa9"),
      IsOkAndHolds(ElementsAre(kBos, 22, 23, kEos, kEos, kEos, kEos, kEos)));
  EXPECT_THAT(t->Encode("\xc3"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST(CLIPTokenizerTest, TruncationKeepsEos) {
  const std::unique_ptr<CLIPTokenizer> t = LoadFixture();
  ASSERT_NE(t, nullptr);
  EXPECT_THAT(t->Encode("a a a a a a a a a"),
              IsOkAndHolds(ElementsAre(kBos, 9, 9, 9, 9, 9, 9, kEos)));
}

TEST(CLIPTokenizerTest, DefaultLengthIs77) {
  absl::StatusOr<std::unique_ptr<CLIPTokenizer>> t =
      CLIPTokenizer::FromContents(kVocabJson, kMergesTxt);
  ASSERT_THAT(t, IsOk());
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<int32_t> ids, (*t)->Encode("a"));
  ASSERT_EQ(ids.size(), 77u);
  EXPECT_EQ(ids[0], kBos);
  EXPECT_EQ(ids[1], 9);
  EXPECT_EQ(ids[76], kEos);
}

TEST(CLIPTokenizerTest, ConceptTokens) {
  const std::unique_ptr<CLIPTokenizer> t = LoadFixture();
  ASSERT_NE(t, nullptr);
  EXPECT_THAT(t->AddToken("<anna>"), IsOkAndHolds(49408));
  EXPECT_EQ(t->vocab_size(), 49409);
  EXPECT_THAT(t->AddToken("<bob>"), IsOkAndHolds(49409));
  EXPECT_THAT(t->AddToken("<anna>"),
              StatusCodeIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(t->AddToken("anna"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(t->AddToken("<|endoftext|>"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(t->TokenId("<anna>"), IsOkAndHolds(49408));
  EXPECT_THAT(
      t->Encode("a <anna> cat"),
      IsOkAndHolds(ElementsAre(kBos, 9, 49408, 20, kEos, kEos, kEos, kEos)));
  // Matched before pre-tokenization, even glued to other text.
  EXPECT_THAT(
      t->Encode("A<Anna>cat<bob>"),
      IsOkAndHolds(ElementsAre(kBos, 9, 49408, 20, 49409, kEos, kEos, kEos)));
}

TEST(CLIPTokenizerTest, DecodeRoundTrip) {
  const std::unique_ptr<CLIPTokenizer> t = LoadFixture(16);
  ASSERT_NE(t, nullptr);
  ASSERT_THAT(t->AddToken("<anna>"), IsOk());
  for (const char* text : {"a photo cat", "a <anna> cat", "\xc3\xa9 a"}) {
    STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<int32_t> ids, t->Encode(text));
    EXPECT_THAT(t->Decode(ids), IsOkAndHolds(std::string(text)));
  }
  // As transformers (before clean_up_tokenization_spaces): every pre-token
  // ends a word.
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<int32_t> ids,
                               t->Encode("a photo!!"));
  EXPECT_THAT(t->Decode(ids), IsOkAndHolds("a photo !!"));
  EXPECT_THAT(t->Decode({3, 10, 21}), IsOkAndHolds("it 's"));
  EXPECT_THAT(t->Decode({30000}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST(CLIPTokenizerTest, LoadErrors) {
  const std::string good_vocab = TempPath("good_vocab.json");
  const std::string good_merges = TempPath("good_merges.txt");
  WriteFile(good_vocab, kVocabJson);
  WriteFile(good_merges, kMergesTxt);
  EXPECT_THAT(CLIPTokenizer::Load(TempPath("missing.json"), good_merges),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.json")));
  EXPECT_THAT(CLIPTokenizer::Load(good_vocab, TempPath("missing.txt")),
              StatusCodeIs(absl::StatusCode::kNotFound));

  struct Case {
    const char* vocab;
    const char* merges;
    const char* message;
  };
  const Case cases[] = {
      {"{\"a\": 0,", kMergesTxt, "not a JSON object"},
      {"[1, 2]", kMergesTxt, "not a JSON object"},
      {R"({"a": "x", "<|startoftext|>": 1, "<|endoftext|>": 2})", kMergesTxt,
       "no valid id"},
      {R"({"a": -1, "<|startoftext|>": 1, "<|endoftext|>": 2})", kMergesTxt,
       "no valid id"},
      {R"({"a": 1, "<|startoftext|>": 1, "<|endoftext|>": 2})", kMergesTxt,
       "used twice"},
      {R"({"a": 0, "<|endoftext|>": 2})", kMergesTxt, "<|startoftext|>"},
      {kVocabJson, "#version: 0.2\nh o\nbad\n", "line 3"},
      {kVocabJson, "h o x\n", "line 1"},
  };
  for (const Case& c : cases) {
    const std::string vocab = TempPath("bad_vocab.json");
    const std::string merges = TempPath("bad_merges.txt");
    WriteFile(vocab, c.vocab);
    WriteFile(merges, c.merges);
    EXPECT_THAT(CLIPTokenizer::Load(vocab, merges),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr(c.message)))
        << c.vocab << " / " << c.merges;
  }
  EXPECT_THAT(
      CLIPTokenizer::FromContents(kVocabJson, kMergesTxt, {.max_length = 1}),
      StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      CLIPTokenizer::FromContents(kVocabJson, kMergesTxt, {.pad_token = "!!"}),
      StatusCodeIs(absl::StatusCode::kDataLoss));
}

TEST(CLIPTokenizerTest, PadTokenOption) {
  absl::StatusOr<std::unique_ptr<CLIPTokenizer>> t =
      CLIPTokenizer::FromContents(kVocabJson, kMergesTxt,
                                  {.max_length = 5, .pad_token = "!"});
  ASSERT_THAT(t, IsOk());
  EXPECT_THAT((*t)->Encode("a"),
              IsOkAndHolds(ElementsAre(kBos, 9, kEos, 8, 8)));
}

}  // namespace
}  // namespace stamina::core
