// File: server/bootstrap_key.h
//
// staminad --bootstrap_tenant: the first tenant and its first API key for a
// fresh deployment, without an admin round trip. The key's secret is written
// once to a file only its owner may read and never printed (stdout and
// stderr end up in deployment logs); later starts find the file and mint
// nothing. Deleting the file makes the next start mint another key (revoke
// the old one with `stamina admin keys revoke`).
// Thread-compatible: called once at start-up.
#ifndef STAMINA_SERVER_BOOTSTRAP_KEY_H_
#define STAMINA_SERVER_BOOTSTRAP_KEY_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "storage/tenant_store.h"

namespace stamina::server {

// Creates `tenant` when missing and, unless `key_file` exists, a key
// labelled "bootstrap" whose secret goes to `key_file` (created 0600, with
// O_EXCL). `log` gets one line naming the key id and the file, never the
// secret. A key whose file could not be written is revoked again.
absl::Status BootstrapTenant(storage::TenantStore& tenants, const std::string& tenant,
                             const std::string& key_file,
                             const std::function<void(const std::string&)>& log);

}  // namespace stamina::server

#endif  // STAMINA_SERVER_BOOTSTRAP_KEY_H_
