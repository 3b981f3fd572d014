#include "core/tokenizers/clip_tokenizer.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/io/file_bytes.h"
#include "nlohmann/json.hpp"

namespace stamina::core {
namespace {

constexpr absl::string_view kEndOfWord = "</w>";
constexpr absl::string_view kContractions[] = {"'s", "'t",  "'re", "'ve",
                                               "'m", "'ll", "'d"};

// The code point bytes_to_unicode() assigns to `byte`.
uint32_t ByteCodePoint(uint8_t byte) {
  auto printable = [](uint32_t b) {
    return (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) ||
           (b >= 0xae && b <= 0xff);
  };
  if (printable(byte)) return byte;
  uint32_t n = 0;  // non-printable bytes before this one
  for (uint32_t b = 0; b < byte; ++b) n += !printable(b);
  return 256 + n;
}

std::string Utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    s.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
  return s;
}

struct ByteTables {
  std::string encode[256];
  absl::flat_hash_map<std::string, uint8_t> decode;  // UTF-8 char -> byte
};

const ByteTables& Bytes() {
  static const ByteTables* tables = [] {
    auto* t = new ByteTables;
    for (int b = 0; b < 256; ++b) {
      t->encode[b] = Utf8(ByteCodePoint(static_cast<uint8_t>(b)));
      t->decode.emplace(t->encode[b], static_cast<uint8_t>(b));
    }
    return t;
  }();
  return *tables;
}

bool IsLetter(unsigned char c) { return (c >= 'a' && c <= 'z') || c >= 0x80; }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }

// Step 1 of the header: whitespace runs to one space, trim, ASCII lowercase.
std::string CleanUp(absl::string_view text) {
  std::string out;
  bool pending_space = false;
  for (const char c : text) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(absl::ascii_tolower(c));
  }
  return out;
}

}  // namespace

std::string ByteToUnicode(uint8_t byte) { return Bytes().encode[byte]; }

absl::StatusOr<std::unique_ptr<CLIPTokenizer>> CLIPTokenizer::Load(
    absl::string_view vocab_json_path, absl::string_view merges_txt_path,
    const CLIPTokenizerOptions& options) {
  absl::StatusOr<std::string> vocab = ReadFileBytes(vocab_json_path);
  if (!vocab.ok()) return vocab.status();
  absl::StatusOr<std::string> merges = ReadFileBytes(merges_txt_path);
  if (!merges.ok()) return merges.status();
  absl::StatusOr<std::unique_ptr<CLIPTokenizer>> t =
      FromContents(*vocab, *merges, options);
  if (!t.ok()) {
    return absl::Status(
        t.status().code(),
        absl::StrCat("loading ", vocab_json_path, " and ", merges_txt_path,
                     ": ", t.status().message()));
  }
  return t;
}

absl::StatusOr<std::unique_ptr<CLIPTokenizer>> CLIPTokenizer::FromContents(
    absl::string_view vocab_json, absl::string_view merges_txt,
    const CLIPTokenizerOptions& options) {
  if (options.max_length < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_length ", options.max_length, " < 2"));
  }
  std::unique_ptr<CLIPTokenizer> t(new CLIPTokenizer(options));
  t->vocab_json_ = std::string(vocab_json);
  t->merges_txt_ = std::string(merges_txt);
  // No exceptions: a parse error yields a "discarded" value.
  const nlohmann::json vocab =
      nlohmann::json::parse(vocab_json.begin(), vocab_json.end(), nullptr,
                            /*allow_exceptions=*/false);
  if (vocab.is_discarded() || !vocab.is_object()) {
    return absl::DataLossError("vocab.json is not a JSON object");
  }
  int64_t max_id = -1;
  for (const auto& [token, value] : vocab.items()) {
    if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
        value.get<int64_t>() >= std::numeric_limits<int32_t>::max()) {
      return absl::DataLossError(
          absl::StrCat("vocab.json: \"", token, "\" has no valid id"));
    }
    const int32_t id = static_cast<int32_t>(value.get<int64_t>());
    if (!t->decoder_.emplace(id, token).second) {
      return absl::DataLossError(
          absl::StrCat("vocab.json: id ", id, " is used twice"));
    }
    t->encoder_.emplace(token, id);
    max_id = std::max<int64_t>(max_id, id);
  }
  t->vocab_size_ = static_cast<int32_t>(max_id + 1);
  const std::pair<absl::string_view, int32_t*> specials[] = {
      {kBosToken, &t->bos_id_},
      {kEosToken, &t->eos_id_},
      {options.pad_token, &t->pad_id_},
      {options.unk_token, &t->unk_id_}};
  for (const auto& [token, id] : specials) {
    const auto it = t->encoder_.find(token);
    if (it == t->encoder_.end()) {
      return absl::DataLossError(
          absl::StrCat("vocab.json lacks \"", token, "\""));
    }
    *id = it->second;
  }

  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(merges_txt, '\n')) {
    ++line_number;
    line = absl::StripSuffix(line, "\r");
    if (line.empty() ||
        (line_number == 1 && absl::StartsWith(line, "#version"))) {
      continue;
    }
    if (static_cast<int>(t->merge_ranks_.size()) >= kMaxMerges) break;
    const std::vector<absl::string_view> pair = absl::StrSplit(line, ' ');
    if (pair.size() != 2 || pair[0].empty() || pair[1].empty()) {
      return absl::DataLossError(absl::StrCat("merges.txt line ", line_number,
                                              ": expected two symbols, got \"",
                                              line, "\""));
    }
    // A repeated pair takes its later rank, as transformers' dict does.
    t->merge_ranks_.insert_or_assign(std::string(line),
                                     static_cast<int>(t->merge_ranks_.size()));
  }
  return t;
}

std::vector<std::string> CLIPTokenizer::PreTokenize(absl::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = text[i];
    if (absl::ascii_isspace(c)) {
      ++i;
      continue;
    }
    size_t len = 0;
    for (absl::string_view special : {kBosToken, kEosToken}) {
      if (len == 0 && absl::StartsWith(text.substr(i), special)) {
        len = special.size();
      }
    }
    for (absl::string_view contraction : kContractions) {
      if (len == 0 && absl::StartsWith(text.substr(i), contraction)) {
        len = contraction.size();
      }
    }
    if (len == 0 && IsLetter(c)) {
      while (i + len < text.size() && IsLetter(text[i + len])) ++len;
    } else if (len == 0 && IsDigit(c)) {
      len = 1;
    } else if (len == 0) {
      while (i + len < text.size()) {
        const unsigned char d = text[i + len];
        if (absl::ascii_isspace(d) || IsLetter(d) || IsDigit(d)) break;
        ++len;
      }
    }
    out.emplace_back(text.substr(i, len));
    i += len;
  }
  return out;
}

std::vector<std::string> CLIPTokenizer::Bpe(absl::string_view pre_token) const {
  std::vector<std::string> word;
  for (const char c : pre_token) {
    word.push_back(Bytes().encode[static_cast<unsigned char>(c)]);
  }
  if (word.empty()) return word;
  word.back().append(kEndOfWord.data(), kEndOfWord.size());
  while (word.size() > 1) {
    // The adjacent pair of lowest rank.
    int best_rank = std::numeric_limits<int>::max();
    size_t best = 0;
    for (size_t k = 0; k + 1 < word.size(); ++k) {
      const auto it =
          merge_ranks_.find(absl::StrCat(word[k], " ", word[k + 1]));
      if (it != merge_ranks_.end() && it->second < best_rank) {
        best_rank = it->second;
        best = k;
      }
    }
    if (best_rank == std::numeric_limits<int>::max()) break;
    // Merge every occurrence of that pair, left to right.
    const std::string first = word[best];
    const std::string second = word[best + 1];
    std::vector<std::string> merged;
    for (size_t k = 0; k < word.size(); ++k) {
      if (k + 1 < word.size() && word[k] == first && word[k + 1] == second) {
        merged.push_back(first + second);
        ++k;
      } else {
        merged.push_back(std::move(word[k]));
      }
    }
    word = std::move(merged);
  }
  return word;
}

absl::StatusOr<std::vector<int32_t>> CLIPTokenizer::Encode(
    absl::string_view text) const {
  if (!IsValidUtf8(text)) {
    return absl::InvalidArgumentError("text is not valid UTF-8");
  }
  const std::string clean = CleanUp(text);
  std::vector<int32_t> tokens;
  for (const ConceptTokens::Piece& piece : concepts_.Split(clean)) {
    if (piece.id >= 0) {
      tokens.push_back(piece.id);
      continue;
    }
    for (const std::string& pre_token : PreTokenize(piece.text)) {
      if (pre_token == kBosToken || pre_token == kEosToken) {
        tokens.push_back(pre_token == kBosToken ? bos_id_ : eos_id_);
        continue;
      }
      for (const std::string& bpe_piece : Bpe(pre_token)) {
        const auto it = encoder_.find(bpe_piece);
        tokens.push_back(it == encoder_.end() ? unk_id_ : it->second);
      }
    }
  }
  return FrameTokens(tokens, options_.max_length, bos_id_, eos_id_, pad_id_);
}

absl::StatusOr<std::string> CLIPTokenizer::Decode(
    absl::Span<const int32_t> ids) const {
  std::string text;
  for (const int32_t id : ids) {
    if (id == bos_id_ || id == eos_id_) continue;
    if (const std::string* concept_token = concepts_.Token(id)) {
      absl::StrAppend(&text, *concept_token, " ");
      continue;
    }
    const auto it = decoder_.find(id);
    if (it == decoder_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", id, " is not in the vocabulary"));
    }
    absl::string_view piece = it->second;
    const bool end_of_word = absl::ConsumeSuffix(&piece, kEndOfWord);
    // Walk UTF-8 characters; each maps back to one byte.
    size_t k = 0;
    while (k < piece.size()) {
      const unsigned char lead = piece[k];
      const size_t n = lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
      const auto byte = Bytes().decode.find(piece.substr(k, n));
      if (byte != Bytes().decode.end()) text.push_back(byte->second);
      k += n;
    }
    if (end_of_word) text.push_back(' ');
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

absl::StatusOr<int32_t> CLIPTokenizer::AddToken(absl::string_view token) {
  if (absl::Status s = ValidateConceptToken(token); !s.ok()) return s;
  if (encoder_.contains(token)) {
    return absl::AlreadyExistsError(
        absl::StrCat("\"", token, "\" is in the vocabulary"));
  }
  const int32_t id = vocab_size_;
  if (absl::Status s = concepts_.Add(token, id); !s.ok()) return s;
  ++vocab_size_;
  return id;
}

absl::StatusOr<int32_t> CLIPTokenizer::TokenId(absl::string_view token) const {
  if (const int32_t id = concepts_.Find(token); id >= 0) return id;
  const auto it = encoder_.find(token);
  if (it == encoder_.end()) {
    return absl::NotFoundError(absl::StrCat("no token \"", token, "\""));
  }
  return it->second;
}

}  // namespace stamina::core
