// Opening gbd.db: private file modes, SQLite settings, schema check and migration.
//
// The file holds runtime keys in the clear, so the directory is created 0700 and the
// file 0600 before SQLite touches it; SQLite gives its -wal and -shm files the mode of
// the database file. An existing file that others can read is tightened, with a warning.
#pragma once

#include <string>

#include "base/error.h"
#include "base/units.h"
#include "store/sqlite.h"

namespace gb::store {

struct OpenedDb {
  Db db;
  std::string path;
  int found_version = 0;  // schema version before migration; 0 for a new file
};

// Opens (creating when missing) `dir`/gbd.db in WAL mode with synchronous=NORMAL,
// foreign keys on and the given busy timeout, and migrates it. Errors name the path.
Result<OpenedDb> open_db(const std::string& dir, Duration busy_timeout);

}  // namespace gb::store
