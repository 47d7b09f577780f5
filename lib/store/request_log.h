// RequestLog: the requests table: inserts, filtered listings for gbctl (request_query.h
// says in which order), retention.
//
// Every filter is served by an index; schema.cc lists them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "store/request_query.h"
#include "store/request_record.h"
#include "store/sqlite.h"

namespace gb::store {

// The SELECT that query() prepares for these filters (parameters unbound), for tests
// that check which index SQLite chooses.
std::string listing_sql(const RequestQuery& q);

class RequestLog {
 public:
  // Prepares the fixed statements; false (see db.error()) when the schema does not match.
  bool prepare(Db& db);

  // Returns a SQLite code; the caller owns the transaction.
  int insert(const RequestRecord& r);

  // *rc gets the SQLite code; rows read before a failure are returned.
  std::vector<RequestRow> query(const RequestQuery& q, int* rc);

  // Deletes at most `batch` rows older than cutoff_ms, oldest first. Returns the number
  // deleted, or -1 on failure (see db.error()). A small batch keeps the write lock short.
  int64_t prune(int64_t cutoff_ms, int64_t batch);

 private:
  Stmt* listing(const RequestQuery& q);

  Db* db_ = nullptr;
  Stmt insert_;
  Stmt prune_;
  // One prepared statement per combination of filters in use: at most 2^6 shapes.
  std::map<std::string, Stmt> listings_;
};

}  // namespace gb::store
