// RequestRecord: one row of the request log (one client request, all its attempts).
//
// No prompt or answer text, never a whole key: keys appear by id only. Pure data.
#pragma once

#include <cstdint>
#include <string>

namespace gb::store {

struct RequestRecord {
  int64_t ts_ms = 0;     // wall clock, Unix ms, when the request arrived
  std::string token;     // client token id (8 hex) or "-" for anonymous
  std::string route;     // the action: "generateContent", "streamGenerateContent", "models.get", ...
  std::string pool;
  std::string model;     // "" when the route names none
  std::string key;       // id of the key that produced the answer; "" when none did
  std::string attempts;  // the trail: "3fa9c2d1:429,77aa01b2:200"
  int status = 0;        // sent to the client; 499 when the client left first
  double ms = 0;         // total latency
  double ttfb_ms = -1;   // time to first byte sent to the client; -1 when none was
  int64_t tokens_in = 0;  // usageMetadata: promptTokenCount
  int64_t tokens_out = 0;  // candidatesTokenCount
  int64_t tokens_thought = 0;  // thoughtsTokenCount
  int64_t tokens_cached = 0;   // cachedContentTokenCount
  std::string err;       // gbd's error code name, "" when none
};

}  // namespace gb::store
