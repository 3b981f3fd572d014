// File: core/tokenizers/clip_tokenizer.h
//
// Owns OpenAI CLIP's byte-level BPE tokenizer (the one Stable Diffusion's
// text encoder was trained with), driven by the vocab.json and merges.txt of
// a tokenizer/ folder. Mirrors transformers
// src/transformers/models/clip/tokenization_clip.py (CLIPTokenizer) and
// OpenAI CLIP clip/simple_tokenizer.py:
//
//  1. clean-up: runs of whitespace become one space, ends are trimmed, ASCII
//     letters are lowercased. Not done (transformers does them with ftfy):
//     ftfy.fix_text, HTML unescaping, Unicode lowercasing.
//  2. concept tokens (tokenizer.h) are cut out.
//  3. pre-tokenization with the pattern
//       <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|
//       [\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//     approximated over bytes: \p{L} is [a-z] plus every byte >= 0x80 (all
//     non-ASCII characters count as letters, so "café" is one word, and so
//     is non-ASCII punctuation), \p{N} is [0-9] (one digit per token), \s is
//     the space left by step 1. The two special strings map straight to
//     their ids.
//  4. each pre-token's bytes go through bytes_to_unicode (ByteToUnicode()),
//     the last symbol gets "</w>", and BPE merges the adjacent pair of lowest
//     merges.txt rank until none applies. Pieces missing from the vocabulary
//     become the unk token (<|endoftext|>, as transformers).
//  5. framing: BOS (<|startoftext|>, 49406 in the real vocabulary), tokens,
//     EOS (<|endoftext|>, 49407), padding with the pad token (<|endoftext|>
//     for SD 1.x; SD 2.x uses "!"), max_length 77; truncation keeps EOS.
//
// merges.txt: a first line starting "#version" is skipped, as are empty
// lines; at most 48,894 merges are read (49152 - 256 - 2, as transformers).
// Concept tokens take ids from vocab_size() up (49408 for the real vocab).
// Thread-safety: as Tokenizer (tokenizer.h).
#ifndef STAMINA_CORE_TOKENIZERS_CLIP_TOKENIZER_H_
#define STAMINA_CORE_TOKENIZERS_CLIP_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/tokenizers/tokenizer.h"

namespace stamina::core {

struct CLIPTokenizerOptions {
  int max_length = 77;
  std::string pad_token = "<|endoftext|>";
  std::string unk_token = "<|endoftext|>";
};

class CLIPTokenizer final : public Tokenizer {
 public:
  static constexpr absl::string_view kBosToken = "<|startoftext|>";
  static constexpr absl::string_view kEosToken = "<|endoftext|>";
  static constexpr int kMaxMerges = 49152 - 256 - 2;

  // NOT_FOUND (or the errno's code) when a file cannot be read; DATA_LOSS
  // when a file is malformed or the vocabulary lacks a special, pad or unk
  // token; INVALID_ARGUMENT for max_length < 2.
  static absl::StatusOr<std::unique_ptr<CLIPTokenizer>> Load(
      absl::string_view vocab_json_path, absl::string_view merges_txt_path,
      const CLIPTokenizerOptions& options = {});
  // The same from file contents.
  static absl::StatusOr<std::unique_ptr<CLIPTokenizer>> FromContents(
      absl::string_view vocab_json, absl::string_view merges_txt,
      const CLIPTokenizerOptions& options = {});

  absl::StatusOr<std::vector<int32_t>> Encode(
      absl::string_view text) const override;
  // Concatenates the pieces, maps symbols back to bytes and turns "</w>"
  // into a space (the bytes may be partial UTF-8 if `ids` cut a character).
  absl::StatusOr<std::string> Decode(
      absl::Span<const int32_t> ids) const override;
  absl::StatusOr<int32_t> AddToken(absl::string_view token) override;
  absl::StatusOr<int32_t> TokenId(absl::string_view token) const override;
  int32_t base_vocab_size() const override {
    return vocab_size() - concepts_.size();
  }
  int32_t vocab_size() const override { return vocab_size_; }
  int max_length() const override { return options_.max_length; }
  int32_t bos_id() const override { return bos_id_; }
  int32_t eos_id() const override { return eos_id_; }
  int32_t pad_id() const override { return pad_id_; }

  // The files this tokenizer was made from, byte for byte (an export writes
  // them back), its options and its concept tokens.
  const std::string& vocab_json() const { return vocab_json_; }
  const std::string& merges_txt() const { return merges_txt_; }
  const CLIPTokenizerOptions& options() const { return options_; }
  const ConceptTokens& concepts() const { return concepts_; }

  // The BPE pieces of one pre-token (before vocabulary lookup), e.g.
  // "photo" -> {"pho", "to</w>"}.
  std::vector<std::string> Bpe(absl::string_view pre_token) const;
  // Step 3 on cleaned-up text.
  static std::vector<std::string> PreTokenize(absl::string_view text);

 private:
  explicit CLIPTokenizer(CLIPTokenizerOptions options)
      : options_(std::move(options)) {}

  CLIPTokenizerOptions options_;
  std::string vocab_json_;
  std::string merges_txt_;
  absl::flat_hash_map<std::string, int32_t> encoder_;
  absl::flat_hash_map<int32_t, std::string> decoder_;
  absl::flat_hash_map<std::string, int> merge_ranks_;  // "first second"
  ConceptTokens concepts_;
  int32_t vocab_size_ = 0;
  int32_t bos_id_ = 0;
  int32_t eos_id_ = 0;
  int32_t pad_id_ = 0;
  int32_t unk_id_ = 0;
};

// GPT-2 / CLIP bytes_to_unicode: the UTF-8 of the printable character that
// stands for `byte` ('a' for 'a', "Ġ" (U+0120) for ' ', "Ń" for 0xAD).
std::string ByteToUnicode(uint8_t byte);

}  // namespace stamina::core

#endif  // STAMINA_CORE_TOKENIZERS_CLIP_TOKENIZER_H_
