// The control protocol: newline-delimited JSON over gbd's Unix socket (DESIGN §5).
//
//   request  {"v":1,"id":7,"cmd":"keys.reset","args":{...}}
//   reply    {"v":1,"id":7,"ok":true,"data":{...}}
//            {"v":1,"id":7,"ok":false,"error":{"code":"not_found","message":"...","details":[...]}}
//   stream   {"v":1,"id":7,"event":{...}} lines, then {"v":1,"id":7,"ok":true,"end":true,...}
//
// A client starts with `hello`, naming the versions it speaks; the daemon answers with
// the one it picked. Within a version fields are only ever added, so both sides ignore
// fields they do not know. Every request gets exactly one line with "ok"; a streaming
// command sends its events before it. Lines are at most kMaxLine bytes.
//
// Pure: builds and parses lines; no I/O.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace gb::ctl {

constexpr int kVersion = 1;
constexpr size_t kMaxLine = 1024 * 1024;

struct Request {
  int v = kVersion;
  int64_t id = 0;
  std::string cmd;
  rapidjson::Document args;  // always an object (empty when the request had none)
};

// Parses one request line (without its newline). On failure the Error's code is
// bad_request or version_unsupported, and *id holds the request's id when it could be read.
Result<Request> parse_request(std::string_view line, int64_t* id);

// Reply lines, each ending in '\n'. `data` and `details` may be null.
std::string ok_line(int64_t id, const rapidjson::Value* data);
std::string error_line(int64_t id, Errc code, std::string_view message,
                       const rapidjson::Value* details = nullptr);
std::string event_line(int64_t id, const rapidjson::Value& event);
// The last line of a stream: ok, with "end":true and optional data.
std::string end_line(int64_t id, const rapidjson::Value* data = nullptr);

// The client's side.
std::string request_line(int64_t id, std::string_view cmd, const rapidjson::Value& args);

struct Reply {
  enum Kind { ok, error, event } kind = ok;
  int64_t id = 0;
  bool end = false;                // ok: the last line of a stream
  rapidjson::Document doc;         // the whole line
  const rapidjson::Value* body = nullptr;  // data (ok, may be null), error or event
  std::string code, message;       // error
};
Result<Reply> parse_reply(std::string_view line);

// JSON text of a value, compact.
std::string to_json(const rapidjson::Value& v);

}  // namespace gb::ctl
