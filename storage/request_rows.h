// File: storage/request_rows.h
//
// Idempotency keys of create calls (AIP-155 request_id), inside the create's
// own write transaction, so that a retry and its original can never both
// create: a key names the request it was first used with (a SHA-256 of its
// content) and the resource it made, per tenant and method. Statements only;
// callers hold the transaction. Thread-compatible (as Database).
#ifndef STAMINA_STORAGE_REQUEST_ROWS_H_
#define STAMINA_STORAGE_REQUEST_ROWS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "storage/database.h"

namespace stamina::storage {

struct RequestKey {
  std::string tenant_id;
  std::string method;          // "CreateModel", "CreateConcept"
  std::string request_id;      // empty: not an idempotent call
  std::string request_sha256;  // the request's content, request_id excluded
};

// The resource the key's first request made, when this is the same request
// again; nullopt for a new key (or an empty request_id). ALREADY_EXISTS
// naming request_id when the key was used with different content.
absl::StatusOr<std::optional<std::string>> FindRequest(Database& db, const RequestKey& key);

// Records that `key` made `resource` (no-op for an empty request_id).
absl::Status RememberRequest(Database& db, const RequestKey& key, const std::string& resource,
                             int64_t now_us);

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_REQUEST_ROWS_H_
