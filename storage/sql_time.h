// File: storage/sql_time.h
//
// Times in the registry are INTEGER microseconds since the Unix epoch.
// Thread-safe: pure functions.
#ifndef STAMINA_STORAGE_SQL_TIME_H_
#define STAMINA_STORAGE_SQL_TIME_H_

#include <cstdint>
#include <optional>

#include "absl/time/time.h"

namespace stamina::storage {

inline int64_t ToMicros(absl::Time time) { return absl::ToUnixMicros(time); }
inline absl::Time FromMicros(int64_t micros) {
  return absl::FromUnixMicros(micros);
}
inline std::optional<absl::Time> FromMicros(std::optional<int64_t> micros) {
  if (!micros.has_value()) return std::nullopt;
  return absl::FromUnixMicros(*micros);
}

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_SQL_TIME_H_
