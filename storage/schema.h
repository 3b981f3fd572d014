// File: storage/schema.h
//
// The registry's SQLite schema as an ordered list of migrations. Append new
// migrations; never edit a released one. Times are microseconds since the Unix
// epoch (`*_us` columns); digests are lowercase hex SHA-256; enums are stored
// as the integers of records.h.
#ifndef STAMINA_STORAGE_SCHEMA_H_
#define STAMINA_STORAGE_SCHEMA_H_

#include <vector>

#include "storage/migrations.h"

namespace stamina::storage {

// Every migration of the registry, oldest first.
const std::vector<Migration>& RegistryMigrations();

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_SCHEMA_H_
