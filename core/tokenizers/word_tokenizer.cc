#include "core/tokenizers/word_tokenizer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace stamina::core {
namespace {

bool IsWordByte(unsigned char c) { return absl::ascii_isalnum(c) || c >= 0x80; }

}  // namespace

absl::StatusOr<std::unique_ptr<WordTokenizer>> WordTokenizer::Create(
    const std::vector<std::string>& words, int max_length) {
  if (max_length < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_length ", max_length, " < 2"));
  }
  std::unique_ptr<WordTokenizer> t(new WordTokenizer(max_length));
  for (absl::string_view special : {kBosToken, kEosToken, kUnkToken}) {
    t->word_to_id_.emplace(std::string(special), t->id_to_word_.size());
    t->id_to_word_.emplace_back(special);
  }
  for (const std::string& word : words) {
    const std::vector<std::string> split = SplitWords(word);
    if (split.size() != 1 || split[0].size() != word.size() ||
        !IsValidUtf8(word)) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", word, "\" is not a single word"));
    }
    if (t->word_to_id_.contains(split[0])) continue;
    t->word_to_id_.emplace(split[0], t->id_to_word_.size());
    t->id_to_word_.push_back(split[0]);
  }
  return t;
}

std::vector<std::string> WordTokenizer::SplitWords(absl::string_view text) {
  std::vector<std::string> words;
  std::string current;
  for (const char c : text) {
    if (IsWordByte(static_cast<unsigned char>(c))) {
      current.push_back(absl::ascii_tolower(c));
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

absl::StatusOr<std::vector<int32_t>> WordTokenizer::Encode(
    absl::string_view text) const {
  if (!IsValidUtf8(text)) {
    return absl::InvalidArgumentError("text is not valid UTF-8");
  }
  // Concept tokens are lowercase, so match them in lowercased text.
  const std::string lower = absl::AsciiStrToLower(text);
  std::vector<int32_t> tokens;
  for (const ConceptTokens::Piece& piece : concepts_.Split(lower)) {
    if (piece.id >= 0) {
      tokens.push_back(piece.id);
      continue;
    }
    for (const std::string& word : SplitWords(piece.text)) {
      const auto it = word_to_id_.find(word);
      tokens.push_back(it == word_to_id_.end() ? kUnkId : it->second);
    }
  }
  return FrameTokens(tokens, max_length_, kBosId, kEosId, pad_id());
}

absl::StatusOr<std::string> WordTokenizer::Decode(
    absl::Span<const int32_t> ids) const {
  std::vector<absl::string_view> words;
  for (const int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", id, " outside [0, ", vocab_size(), ")"));
    }
    if (id == kBosId || id == kEosId) continue;
    words.push_back(id_to_word_[id]);
  }
  return absl::StrJoin(words, " ");
}

absl::StatusOr<int32_t> WordTokenizer::AddToken(absl::string_view token) {
  if (absl::Status s = ValidateConceptToken(token); !s.ok()) return s;
  const int32_t id = vocab_size();
  if (absl::Status s = concepts_.Add(token, id); !s.ok()) return s;
  word_to_id_.emplace(std::string(token), id);
  id_to_word_.emplace_back(token);
  return id;
}

absl::StatusOr<int32_t> WordTokenizer::TokenId(absl::string_view token) const {
  const auto it = word_to_id_.find(token);
  if (it == word_to_id_.end()) {
    return absl::NotFoundError(absl::StrCat("no token \"", token, "\""));
  }
  return it->second;
}

}  // namespace stamina::core
