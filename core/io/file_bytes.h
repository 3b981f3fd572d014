// File: core/io/file_bytes.h
//
// Reads a whole file into memory: the one file reader of core's loaders
// (model folders, tokenizer files, configs).
// Thread-safe: no shared state.
#ifndef STAMINA_CORE_IO_FILE_BYTES_H_
#define STAMINA_CORE_IO_FILE_BYTES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace stamina::core {

// The file's bytes. The errno's status when it cannot be opened (NOT_FOUND
// for a missing file), naming the path; DATA_LOSS when reading fails.
absl::StatusOr<std::string> ReadFileBytes(absl::string_view path);

}  // namespace stamina::core

#endif  // STAMINA_CORE_IO_FILE_BYTES_H_
