// The built-in model's tokenizer over the synthetic world's captions: every
// caption word is in the vocabulary and every caption fits 77 tokens.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "core/tokenizers/word_tokenizer.h"
#include "core/world/renderer.h"
#include "gtest/gtest.h"

namespace stamina::core {
namespace {

TEST(WorldVocabularyTest, CaptionsEncodeWithoutUnknownsWithinMaxLength) {
  STAMINA_ASSERT_OK_AND_ASSIGN(std::unique_ptr<WordTokenizer> tokenizer,
                               WordTokenizer::Create(CaptionVocabulary()));
  STAMINA_ASSERT_OK(tokenizer->AddToken("<anna>").status());
  int longest = 0;
  std::vector<std::string> captions;
  for (uint64_t seed = 0; seed < 3000; ++seed) {
    captions.push_back(PretrainingSample(seed, /*size=*/8).caption);
  }
  captions.push_back(CaptionWithToken("<anna>", Color::kOrange));
  for (const std::string& caption : captions) {
    STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<int32_t> ids,
                                 tokenizer->Encode(caption));
    int length = 0;
    for (const int32_t id : ids) {
      ASSERT_NE(id, WordTokenizer::kUnkId) << caption;
      length += id != tokenizer->eos_id();
    }
    longest = std::max(longest, length);
  }
  // BOS + words; the longest face caption is 24 words.
  EXPECT_LT(longest + 1, tokenizer->max_length());
  EXPECT_LE(tokenizer->vocab_size(), 200);
}

}  // namespace
}  // namespace stamina::core
