// The schema of gbd.db and the steps that bring an older file up to date.
//
// PRAGMA user_version holds the number of migration steps applied. Steps are appended,
// never edited: a released step has run on someone's disk. Each step runs in its own
// transaction together with the version bump, so a crash leaves the file at a whole
// version. PRAGMA application_id marks the file as gbd's, so a SQLite database of some
// other program is refused instead of being written into.
#pragma once

#include <string>

#include "base/error.h"
#include "store/sqlite.h"

namespace gb::store {

// 'gbd' in ASCII, in the header's application_id field.
inline constexpr int kApplicationId = 0x676264;

// The version this binary writes; what migrate() leaves behind.
int schema_version();

// Brings `db` (the file at `path`, for messages) to schema_version(). Returns the
// version found before. Refuses, naming the file: a file that is not a SQLite database,
// a database of another application, a version newer than this binary knows.
Result<int> migrate(Db& db, const std::string& path);

}  // namespace gb::store
