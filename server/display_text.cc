#include "server/display_text.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace stamina::server {
namespace {

constexpr int kMaxFileNameCharacters = 128;

// Decodes the code point at `text[i]`: its value and byte length, or a
// length of 0 for invalid UTF-8 (overlong forms and surrogates included).
std::pair<uint32_t, size_t> DecodeAt(absl::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return {lead, 1};
  size_t length;
  uint32_t value;
  uint32_t minimum;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, value = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, value = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, value = lead & 0x07, minimum = 0x10000;
  } else {
    return {0, 0};
  }
  if (i + length > text.size()) return {0, 0};
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return {0, 0};
    value = (value << 6) | (byte(i + k) & 0x3F);
  }
  if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    return {0, 0};
  }
  return {value, length};
}

bool Unsafe(uint32_t c) {
  return c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0) ||              // C0, DEL, C1
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||  // bidi
         c == 0x200E || c == 0x200F || c == 0x061C || c == 0xFEFF;
}

}  // namespace

std::optional<int64_t> Utf8Length(absl::string_view text) {
  int64_t count = 0;
  for (size_t i = 0; i < text.size();) {
    const auto [value, length] = DecodeAt(text, i);
    if (length == 0) return std::nullopt;
    i += length;
    ++count;
  }
  return count;
}

absl::Status CheckText(absl::string_view text, int64_t max_characters,
                       absl::string_view field) {
  const std::optional<int64_t> characters = Utf8Length(text);
  if (!characters.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not valid UTF-8"));
  }
  if (*characters > max_characters) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", *characters, " characters; the limit is ", max_characters));
  }
  return absl::OkStatus();
}

absl::Status CheckCaption(absl::string_view caption, absl::string_view field) {
  STAMINA_RETURN_IF_ERROR(CheckText(caption, kMaxCaptionCharacters, field));
  if (caption.find("{}") == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must contain {} where the token goes"));
  }
  if (caption.find_first_of("\r\n") != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be one line"));
  }
  return absl::OkStatus();
}

absl::Status CheckRequestId(absl::string_view request_id) {
  constexpr size_t kMaxRequestIdLength = 128;
  if (request_id.size() > kMaxRequestIdLength) {
    return absl::InvalidArgumentError(absl::StrCat("request_id: ", request_id.size(),
                                                   " characters; the limit is ",
                                                   kMaxRequestIdLength));
  }
  for (char c : request_id) {
    if (c < 0x21 || c > 0x7E) {
      return absl::InvalidArgumentError(
          "request_id: only printable ASCII without spaces (e.g. a UUID)");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckWord(absl::string_view word, int64_t max_bytes, absl::string_view field) {
  if (word.size() > static_cast<size_t>(max_bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", word.size(), " bytes; the limit is ", max_bytes));
  }
  for (size_t i = 0; i < word.size();) {
    const auto [value, length] = DecodeAt(word, i);
    if (length == 0) return absl::InvalidArgumentError(absl::StrCat(field, ": not valid UTF-8"));
    if (value == ' ' || Unsafe(value) || (i == 0 && value == '<')) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": one word (no spaces, control characters or concept tokens)"));
    }
    i += length;
  }
  return absl::OkStatus();
}

std::string SafeFileName(absl::string_view name) {
  const size_t slash = name.find_last_of("/\\");
  if (slash != absl::string_view::npos) name.remove_prefix(slash + 1);
  std::string safe;
  int characters = 0;
  for (size_t i = 0; i < name.size() && characters < kMaxFileNameCharacters; ++characters) {
    const auto [value, length] = DecodeAt(name, i);
    if (length == 0 || Unsafe(value)) {
      safe += '_';
      i += length == 0 ? 1 : length;
    } else {
      safe.append(name.data() + i, length);
      i += length;
    }
  }
  if (safe.empty() || safe == "." || safe == "..") return "image";
  return safe;
}

}  // namespace stamina::server
