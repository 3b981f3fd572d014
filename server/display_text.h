// File: server/display_text.h
//
// Text from clients that comes back to clients (or to a web page, a log, a
// terminal): limits counted in characters, not bytes, and uploaded file
// names made safe to show. Thread-safe: functions of their arguments.
#ifndef STAMINA_SERVER_DISPLAY_TEXT_H_
#define STAMINA_SERVER_DISPLAY_TEXT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace stamina::server {

// The number of Unicode code points in `text`; nullopt when it is not valid
// UTF-8.
std::optional<int64_t> Utf8Length(absl::string_view text);

// OK when `text` is valid UTF-8 of at most `max_characters` code points;
// else INVALID_ARGUMENT naming `field`: "FIELD: 301 characters; the limit
// is 300" or "FIELD: not valid UTF-8". Every client text with a documented
// length limit is checked here, so limits mean characters everywhere.
absl::Status CheckText(absl::string_view text, int64_t max_characters,
                       absl::string_view field);

// Captions (an image's, or a concept's caption templates): `{}` stands for
// the token and must appear; one line; at most kMaxCaptionCharacters.
inline constexpr int64_t kMaxCaptionCharacters = 300;
absl::Status CheckCaption(absl::string_view caption, absl::string_view field);

// Idempotency keys (`request_id`): empty (none), or 1 to 128 printable
// ASCII characters without spaces, e.g. a UUID. INVALID_ARGUMENT naming
// request_id otherwise.
absl::Status CheckRequestId(absl::string_view request_id);

// A single word (e.g. TrainingSettings.token_initializer): valid UTF-8 of at
// most `max_bytes` bytes without spaces, control or bidirectional characters,
// and not a concept token ("<...>"). INVALID_ARGUMENT naming `field`.
absl::Status CheckWord(absl::string_view word, int64_t max_bytes, absl::string_view field);

// An uploaded file name as a safe display name: only its last path component
// ('/' and '\' separate), with control characters, bidirectional overrides
// and invalid UTF-8 each replaced by '_', cut to at most 128 characters (on a
// character boundary); "image" when nothing is left, or for "." and "..".
std::string SafeFileName(absl::string_view name);

}  // namespace stamina::server

#endif  // STAMINA_SERVER_DISPLAY_TEXT_H_
