// File: server/page_tokens.h
//
// Page tokens of the List* methods. A token carries the store's cursor and a
// digest of the call that returned it (the caller's scope, the method's
// request type and every request field but page_token, page_size included),
// so a token continues only the list it came from: with another parent,
// filter or page size it is INVALID_ARGUMENT, as docs/api.md promises. The
// digest binds, it does not hide: a cursor is an offset or a row key of the
// caller's own list. Thread-safe: functions of their arguments.
#ifndef STAMINA_SERVER_PAGE_TOKENS_H_
#define STAMINA_SERVER_PAGE_TOKENS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace stamina::server {

// The cursor in `request`'s page_token ("" for the first page).
// INVALID_ARGUMENT naming page_token when the token was not returned by the
// same call (same `scope`, e.g. the tenant id, and the same request fields).
absl::StatusOr<std::string> PageCursorOf(const google::protobuf::Message& request,
                                         absl::string_view scope);

// The next_page_token that continues `request` at `cursor`; "" when `cursor`
// is empty (the last page).
std::string NextPageToken(const google::protobuf::Message& request, absl::string_view scope,
                          absl::string_view cursor);

}  // namespace stamina::server

#endif  // STAMINA_SERVER_PAGE_TOKENS_H_
