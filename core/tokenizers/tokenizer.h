// File: core/tokenizers/tokenizer.h
//
// Owns the text-tokenizer interface the text encoder is fed through, and the
// concept-token table every implementation shares. Implementations:
// WordTokenizer (word_tokenizer.h, the built-in model's closed vocabulary)
// and CLIPTokenizer (clip_tokenizer.h, OpenAI CLIP's byte-level BPE).
//
// Encode() always returns exactly max_length() ids, as Stable Diffusion
// feeds CLIP: BOS, the text's tokens, EOS, then pad_id() up to max_length.
// Text longer than max_length - 2 tokens is truncated and EOS stays last.
//
// Concept tokens ("<anna>") are added at run time by AddToken(). They are
// matched in the (normalised, lowercased) text before any other splitting,
// so "photo of <anna>'s dog" and "a<anna>b" both yield the concept's id. A
// concept token is '<', 1 to 62 characters of [a-z0-9_-], '>'; anything else
// is INVALID_ARGUMENT, and a token already known is ALREADY_EXISTS. New ids
// are vocab_size() at the time of the call (so the embedding table grows by
// one row per concept, in order).
//
// Thread-safety: const methods may run concurrently; AddToken() needs
// exclusive access (tokenizers are set up, then shared read-only).
#ifndef STAMINA_CORE_TOKENIZERS_TOKENIZER_H_
#define STAMINA_CORE_TOKENIZERS_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace stamina::core {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Exactly max_length() ids. INVALID_ARGUMENT for text that is not valid
  // UTF-8.
  virtual absl::StatusOr<std::vector<int32_t>> Encode(
      absl::string_view text) const = 0;
  // Text of `ids`, skipping BOS, EOS and padding; words are separated by
  // single spaces. INVALID_ARGUMENT for an id outside [0, vocab_size()).
  virtual absl::StatusOr<std::string> Decode(
      absl::Span<const int32_t> ids) const = 0;

  // Adds a concept token; returns its id.
  virtual absl::StatusOr<int32_t> AddToken(absl::string_view token) = 0;
  // The id of a whole token as the vocabulary spells it (a concept token,
  // a special token, a word; for CLIP a BPE piece such as "cat</w>").
  // NOT_FOUND when absent.
  virtual absl::StatusOr<int32_t> TokenId(absl::string_view token) const = 0;

  // One more than the largest id, concept tokens included.
  virtual int32_t vocab_size() const = 0;
  // The ids below this are the tokenizer's own vocabulary; concept tokens
  // take the ids from here up.
  virtual int32_t base_vocab_size() const = 0;
  virtual int max_length() const = 0;
  virtual int32_t bos_id() const = 0;
  virtual int32_t eos_id() const = 0;
  virtual int32_t pad_id() const = 0;
};

// INVALID_ARGUMENT unless `token` has the concept-token form above.
absl::Status ValidateConceptToken(absl::string_view token);

// The concept tokens of one tokenizer. Not thread-safe for Add().
class ConceptTokens {
 public:
  // A run of plain text, or a concept token (id >= 0).
  struct Piece {
    absl::string_view text;
    int32_t id = -1;
  };

  // Validates `token` and records it with `id`. ALREADY_EXISTS if present.
  absl::Status Add(absl::string_view token, int32_t id);
  // -1 when absent.
  int32_t Find(absl::string_view token) const;
  // The token with this id, or nullptr.
  const std::string* Token(int32_t id) const;
  // Cuts `text` around concept tokens; pieces point into `text`.
  std::vector<Piece> Split(absl::string_view text) const;
  bool empty() const { return ids_.empty(); }
  int32_t size() const { return static_cast<int32_t>(ids_.size()); }

 private:
  absl::flat_hash_map<std::string, int32_t> ids_;
  absl::flat_hash_map<int32_t, std::string> tokens_;
};

// Whether `text` is well-formed UTF-8.
bool IsValidUtf8(absl::string_view text);

// Lays out BOS, up to max_length - 2 of `tokens`, EOS and padding.
std::vector<int32_t> FrameTokens(const std::vector<int32_t>& tokens,
                                 int max_length, int32_t bos, int32_t eos,
                                 int32_t pad);

}  // namespace stamina::core

#endif  // STAMINA_CORE_TOKENIZERS_TOKENIZER_H_
