#include "storage/paging.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace stamina::storage {

absl::StatusOr<PageRequest> ParsePageRequest(int page_size,
                                             const std::string& page_token,
                                             absl::string_view method) {
  if (page_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: must be >= 0, got ", page_size));
  }
  PageRequest request;
  if (page_size > 0) request.size = std::min(page_size, 1000);
  if (!page_token.empty() &&
      (!absl::SimpleAtoi(page_token, &request.before_key) ||
       request.before_key <= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token: not a token from ", method));
  }
  return request;
}

}  // namespace stamina::storage
