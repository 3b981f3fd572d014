// File: core/tokenizers/word_tokenizer.h
//
// Owns the word-level tokenizer of the built-in model: a closed vocabulary
// (the synthetic world's caption words, core/world/renderer.h
// CaptionVocabulary()) fixed at construction, plus concept tokens.
//
// Ids: 0 <|startoftext|> (BOS), 1 <|endoftext|> (EOS, also the padding, as
// Stable Diffusion pads CLIP), 2 <|unk|> (any word not in the vocabulary),
// then the words in the order given (duplicates dropped), then concept
// tokens in the order added.
//
// Splitting: after concept tokens are cut out, text is lowercased (ASCII) and
// split into maximal runs of word characters: ASCII letters and digits and
// every byte >= 0x80 (so "café" is one word). Everything else (whitespace and
// ASCII punctuation, including the apostrophe) separates words and is
// dropped: "a face, with red hair." is "a face with red hair".
//
// Thread-safety: as Tokenizer (tokenizer.h).
#ifndef STAMINA_CORE_TOKENIZERS_WORD_TOKENIZER_H_
#define STAMINA_CORE_TOKENIZERS_WORD_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/tokenizers/tokenizer.h"

namespace stamina::core {

class WordTokenizer final : public Tokenizer {
 public:
  static constexpr int32_t kBosId = 0;
  static constexpr int32_t kEosId = 1;
  static constexpr int32_t kUnkId = 2;
  static constexpr absl::string_view kBosToken = "<|startoftext|>";
  static constexpr absl::string_view kEosToken = "<|endoftext|>";
  static constexpr absl::string_view kUnkToken = "<|unk|>";

  // INVALID_ARGUMENT for max_length < 2 or a word that is empty or would not
  // survive splitting as one word (after lowercasing).
  static absl::StatusOr<std::unique_ptr<WordTokenizer>> Create(
      const std::vector<std::string>& words, int max_length = 77);

  // The words `text` splits into (lowercase; no concept-token handling).
  static std::vector<std::string> SplitWords(absl::string_view text);

  absl::StatusOr<std::vector<int32_t>> Encode(
      absl::string_view text) const override;
  absl::StatusOr<std::string> Decode(
      absl::Span<const int32_t> ids) const override;
  absl::StatusOr<int32_t> AddToken(absl::string_view token) override;
  absl::StatusOr<int32_t> TokenId(absl::string_view token) const override;
  int32_t base_vocab_size() const override {
    return vocab_size() - concepts_.size();
  }
  int32_t vocab_size() const override {
    return static_cast<int32_t>(id_to_word_.size());
  }
  int max_length() const override { return max_length_; }
  int32_t bos_id() const override { return kBosId; }
  int32_t eos_id() const override { return kEosId; }
  int32_t pad_id() const override { return kEosId; }

 private:
  explicit WordTokenizer(int max_length) : max_length_(max_length) {}

  int max_length_;
  absl::flat_hash_map<std::string, int32_t> word_to_id_;
  std::vector<std::string> id_to_word_;  // specials, words, concepts
  ConceptTokens concepts_;
};

}  // namespace stamina::core

#endif  // STAMINA_CORE_TOKENIZERS_WORD_TOKENIZER_H_
