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

#include "absl/strings/string_view.h"

namespace stamina::server {

// The number of Unicode code points in `text`; nullopt when it is not valid
// UTF-8.
std::optional<int64_t> Utf8Length(absl::string_view text);

// An uploaded file name as a safe display name: only its last path component
// ('/' and '\' separate), with control characters, bidirectional overrides
// and invalid UTF-8 each replaced by '_', cut to at most 128 characters (on a
// character boundary); "image" when nothing is left, or for "." and "..".
std::string SafeFileName(absl::string_view name);

}  // namespace stamina::server

#endif  // STAMINA_SERVER_DISPLAY_TEXT_H_
