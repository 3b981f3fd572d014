#include "core/tokenizers/tokenizer.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace stamina::core {
namespace {

constexpr size_t kMaxConceptNameLength = 62;

bool IsConceptNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

absl::Status ValidateConceptToken(absl::string_view token) {
  const bool framed =
      token.size() >= 3 && token.front() == '<' && token.back() == '>';
  const absl::string_view name =
      framed ? token.substr(1, token.size() - 2) : absl::string_view();
  if (!framed || name.size() > kMaxConceptNameLength ||
      !std::all_of(name.begin(), name.end(), IsConceptNameChar)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad concept token \"", token,
                     "\": expected '<', 1 to 62 of [a-z0-9_-], '>'"));
  }
  return absl::OkStatus();
}

absl::Status ConceptTokens::Add(absl::string_view token, int32_t id) {
  if (absl::Status s = ValidateConceptToken(token); !s.ok()) return s;
  if (ids_.contains(token)) {
    return absl::AlreadyExistsError(
        absl::StrCat("concept token ", token, " already added"));
  }
  ids_.emplace(std::string(token), id);
  tokens_.emplace(id, std::string(token));
  return absl::OkStatus();
}

int32_t ConceptTokens::Find(absl::string_view token) const {
  const auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

const std::string* ConceptTokens::Token(int32_t id) const {
  const auto it = tokens_.find(id);
  return it == tokens_.end() ? nullptr : &it->second;
}

std::vector<ConceptTokens::Piece> ConceptTokens::Split(
    absl::string_view text) const {
  std::vector<Piece> pieces;
  size_t start = 0;  // of the pending plain-text run
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '<' && !ids_.empty()) {
      // Concept names contain neither '<' nor '>', so the token, if any,
      // ends at the next '>'.
      const size_t close = text.find('>', i + 1);
      if (close != absl::string_view::npos &&
          close - i + 1 <= kMaxConceptNameLength + 2) {
        const int32_t id = Find(text.substr(i, close - i + 1));
        if (id >= 0) {
          if (i > start) pieces.push_back({text.substr(start, i - start)});
          pieces.push_back({text.substr(i, close - i + 1), id});
          i = close + 1;
          start = i;
          continue;
        }
      }
    }
    ++i;
  }
  if (start < text.size()) pieces.push_back({text.substr(start)});
  return pieces;
}

bool IsValidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = text[i];
    int extra;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // truncated sequence
    for (int k = 1; k <= extra; ++k) {
      const unsigned char d = text[i + k];
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;  // overlong, out of range or a surrogate
    }
    i += extra + 1;
  }
  return true;
}

std::vector<int32_t> FrameTokens(const std::vector<int32_t>& tokens,
                                 int max_length, int32_t bos, int32_t eos,
                                 int32_t pad) {
  std::vector<int32_t> ids;
  ids.reserve(max_length);
  ids.push_back(bos);
  const size_t keep =
      std::min(tokens.size(), static_cast<size_t>(std::max(0, max_length - 2)));
  ids.insert(ids.end(), tokens.begin(), tokens.begin() + keep);
  ids.push_back(eos);
  ids.resize(max_length, pad);
  return ids;
}

}  // namespace stamina::core
