// KeyTable: the keys and key_models tables, read at startup and written by the store.
//
// A key is identified by (pool, hash). Writing a key replaces all of its model rows, so
// a model the pool no longer tracks disappears. Only runtime keys keep their secret: a
// config key's secret is never written, whatever the record holds, because the config
// file is where it lives.
#pragma once

#include <string>
#include <vector>

#include "pool/key_record.h"
#include "store/sqlite.h"

namespace gb::store {

class KeyTable {
 public:
  // Prepares the statements; false (see db.error()) when the schema does not match.
  bool prepare(Db& db);

  // Each returns a SQLite code; the caller owns the transaction around them.
  int write(const pool::KeyRecord& r, int64_t now_ms);
  int remove(const std::string& pool, const std::string& hash);
  int remove_pool(const std::string& pool);

  // Every key of every pool, ordered by pool then hash, models by name. *rc gets the
  // SQLite code (SQLITE_OK on success; the records read so far are returned otherwise).
  std::vector<pool::KeyRecord> load(int* rc);

 private:
  int write_models(const pool::KeyRecord& r);

  Stmt upsert_;
  Stmt delete_models_;
  Stmt insert_model_;
  Stmt delete_key_;
  Stmt delete_pool_;
  Stmt select_keys_;
  Stmt select_models_;
};

}  // namespace gb::store
