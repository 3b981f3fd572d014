// File: storage/paging.h
//
// Keyset pagination shared by the registry's list methods: page_size 0 means
// 50 and is capped at 1000; a page token is the (decimal) key of the last
// row returned, and the next page holds the rows with smaller keys.
// Thread-safe: pure functions.
#ifndef STAMINA_STORAGE_PAGING_H_
#define STAMINA_STORAGE_PAGING_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace stamina::storage {

struct PageRequest {
  int size = 50;
  int64_t before_key = INT64_MAX;  // rows with keys below this one
};

// INVALID_ARGUMENT for a negative size or a token `method` did not issue.
absl::StatusOr<PageRequest> ParsePageRequest(int page_size,
                                             const std::string& page_token,
                                             absl::string_view method);

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_PAGING_H_
