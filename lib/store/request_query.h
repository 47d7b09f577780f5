// RequestQuery and RequestRow: a listing of the request log, as gbctl asks for it.
//
// Listings come in two orders, chosen by after_rowid:
//   after_rowid == 0: the newest matching rows first, by arrival time (ts_ms, then rowid)
//                     -- `gbctl logs tail -n N`;
//   after_rowid  > 0: the rows logged after that one, oldest first, in the order they
//                     were written -- `logs tail -f` passes the largest rowid it has seen.
//                     A long request is logged when it ends, after shorter ones that
//                     arrived later, so only the rowid (not ts_ms) is a cursor that never
//                     skips a row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "store/request_record.h"

namespace gb::store {

struct RequestQuery {
  int64_t since_ms = 0;  // ts_ms >= since_ms
  int64_t until_ms = 0;  // ts_ms < until_ms; 0: no bound
  std::string pool;      // "": any
  std::string model;
  std::string key;           // key id
  bool errors_only = false;  // status >= 400 or a non-empty err
  size_t limit = 100;        // at most this many rows
  int64_t after_rowid = 0;   // > 0: follow mode, see above
};

struct RequestRow {
  // The row's id (requests.id, an alias of SQLite's rowid, so VACUUM keeps it): a
  // cursor for after_rowid.
  int64_t rowid = 0;
  RequestRecord r;
};

}  // namespace gb::store
