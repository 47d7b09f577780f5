#include "ctl/protocol.h"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

using gb::Errc;
using gb::errc_name;
using gb::ctl::end_line;
using gb::ctl::error_line;
using gb::ctl::event_line;
using gb::ctl::ok_line;
using gb::ctl::parse_reply;
using gb::ctl::parse_request;
using gb::ctl::Reply;
using gb::ctl::request_line;
using gb::ctl::to_json;

namespace {

rapidjson::Document json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

// One line: a single '\n', at the end.
void check_one_line(const std::string& line) {
  REQUIRE_FALSE(line.empty());
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(line.find('\r') == std::string::npos);
}

// Strings that must cross the protocol unchanged: quotes, backslashes, control
// characters, newlines and non-ASCII text.
const std::string kAwkward[] = {
    "plain",
    "",
    "say \"hi\"",
    "back\\slash and \\n not a newline",
    "two\nlines",
    "crlf\r\nend\n",
    "tab\tand \x01 and \x1f",
    "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x99\x82",
    "</script>\u2028\u2029",
};

const std::string kWithNul("nul\0inside", 10);

}  // namespace

TEST_CASE("parse_request accepts requests with and without v, id and args", "[ctl]") {
  struct Case {
    const char* line;
    int64_t id;
    const char* cmd;
    const char* args;  // compact JSON
  };
  const Case cases[] = {
      {R"({"v":1,"id":7,"cmd":"keys.reset","args":{"pool":"gemini","keys":["3fa9c2d1"]}})", 7,
       "keys.reset", R"({"pool":"gemini","keys":["3fa9c2d1"]})"},
      {R"({"cmd":"status"})", 0, "status", "{}"},
      {R"({"id":12,"cmd":"status"})", 12, "status", "{}"},
      {R"({"v":1,"cmd":"status"})", 0, "status", "{}"},
      {R"({"cmd":"stats","args":{}})", 0, "stats", "{}"},
      {R"({"args":{"n":5},"cmd":"logs.tail","id":3,"v":1})", 3, "logs.tail", R"({"n":5})"},
      {R"({"id":-4,"cmd":"help"})", -4, "help", "{}"},
      {R"({"id":9223372036854775807,"cmd":"help"})", std::numeric_limits<int64_t>::max(), "help",
       "{}"},
      {R"({"id":-9223372036854775808,"cmd":"help"})", std::numeric_limits<int64_t>::min(), "help",
       "{}"},
      {R"(  {"id":1, "cmd" : "status" , "future":[1,{"x":null}]}  )", 1, "status", "{}"},
      {R"({"id":2,"cmd":"no.such.command"})", 2, "no.such.command", "{}"},
      {R"({"id":2,"cmd":""})", 2, "", "{}"},
  };
  for (const Case& c : cases) {
    INFO(c.line);
    int64_t id = -1;
    auto r = parse_request(c.line, &id);
    REQUIRE(r.ok());
    CHECK(id == c.id);
    CHECK(r->id == c.id);
    CHECK(r->v == gb::ctl::kVersion);
    CHECK(r->cmd == c.cmd);
    REQUIRE(r->args.IsObject());
    CHECK(to_json(r->args) == c.args);
  }
}

TEST_CASE("parse_request refuses malformed requests and reports the id it could read", "[ctl]") {
  struct Case {
    const char* what;
    std::string line;
    Errc code;
    int64_t id;            // *id after the call
    const char* mentions;  // a word the message must contain
  };
  const Case cases[] = {
      {"empty line", "", Errc::bad_request, 0, "not JSON"},
      {"not JSON", "status", Errc::bad_request, 0, "not JSON"},
      {"truncated", R"({"id":5,"cmd":"sta)", Errc::bad_request, 0, "not JSON"},
      {"an array", R"([{"id":5,"cmd":"status"}])", Errc::bad_request, 0, "object"},
      {"a string", R"("status")", Errc::bad_request, 0, "object"},
      {"a number", "7", Errc::bad_request, 0, "object"},
      {"null", "null", Errc::bad_request, 0, "object"},
      {"id a string", R"({"id":"7","cmd":"status"})", Errc::bad_request, 0, "\"id\""},
      {"id a real", R"({"id":1.5,"cmd":"status"})", Errc::bad_request, 0, "\"id\""},
      {"id past int64", R"({"id":9223372036854775808,"cmd":"status"})", Errc::bad_request, 0,
       "\"id\""},
      {"id null", R"({"id":null,"cmd":"status"})", Errc::bad_request, 0, "\"id\""},
      {"v a string", R"({"v":"1","id":4,"cmd":"status"})", Errc::bad_request, 4, "\"v\""},
      {"v a real", R"({"v":1.5,"id":4,"cmd":"status"})", Errc::bad_request, 4, "\"v\""},
      {"v past int", R"({"v":4294967297,"id":4,"cmd":"status"})", Errc::bad_request, 4, "\"v\""},
      {"v = 2", R"({"v":2,"id":5,"cmd":"status"})", Errc::version_unsupported, 5, "version 2"},
      {"v = 0", R"({"id":5,"v":0,"cmd":"status"})", Errc::version_unsupported, 5, "version 0"},
      {"v = 2 without cmd", R"({"v":2,"id":5})", Errc::version_unsupported, 5, "version 2"},
      {"missing cmd", R"({"v":1,"id":6})", Errc::bad_request, 6, "\"cmd\""},
      {"missing cmd without id", R"({"v":1,"args":{}})", Errc::bad_request, 0, "\"cmd\""},
      {"cmd a number", R"({"id":6,"cmd":7})", Errc::bad_request, 6, "\"cmd\""},
      {"cmd null", R"({"id":6,"cmd":null})", Errc::bad_request, 6, "\"cmd\""},
      {"cmd an array", R"({"id":6,"cmd":["status"]})", Errc::bad_request, 6, "\"cmd\""},
      {"args an array", R"({"id":8,"cmd":"status","args":[1]})", Errc::bad_request, 8, "\"args\""},
      {"args a string", R"({"id":8,"cmd":"status","args":"pool"})", Errc::bad_request, 8,
       "\"args\""},
      {"args a number", R"({"id":8,"cmd":"status","args":1})", Errc::bad_request, 8, "\"args\""},
  };
  for (const Case& c : cases) {
    INFO(c.what << ": " << c.line);
    int64_t id = -1;
    auto r = parse_request(c.line, &id);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == c.code);
    CHECK(r.error().side == gb::Side::client);
    CHECK(id == c.id);
    CHECK_THAT(r.error().context, Catch::Contains(c.mentions));
  }
}

TEST_CASE("parse_request resets the id it reports between calls", "[ctl]") {
  int64_t id = 0;
  REQUIRE_FALSE(parse_request(R"({"id":9,"v":3,"cmd":"x"})", &id).ok());
  CHECK(id == 9);
  REQUIRE_FALSE(parse_request("{", &id).ok());
  CHECK(id == 0);
}

TEST_CASE("reply lines are one line each and parse back to what was sent", "[ctl]") {
  rapidjson::Document data = json(R"({"pools":2,"names":["a","b"],"nested":{"x":null}})");
  rapidjson::Document details = json(R"([{"file":"gbd.toml","line":3}])");
  rapidjson::Document event = json(R"({"status":200,"pool":"gemini"})");

  SECTION("ok without data") {
    std::string line = ok_line(7, nullptr);
    check_one_line(line);
    auto r = parse_reply(line);
    REQUIRE(r.ok());
    CHECK(r->kind == Reply::ok);
    CHECK(r->id == 7);
    CHECK_FALSE(r->end);
    CHECK(r->body == nullptr);
  }
  SECTION("ok with data") {
    std::string line = ok_line(-2, &data);
    check_one_line(line);
    auto r = parse_reply(line);
    REQUIRE(r.ok());
    CHECK(r->kind == Reply::ok);
    CHECK(r->id == -2);
    CHECK_FALSE(r->end);
    REQUIRE(r->body != nullptr);
    CHECK(to_json(*r->body) == to_json(data));
  }
  SECTION("error without details") {
    std::string line = error_line(9, Errc::not_found, "no key 3fa9c2d1 in pool gemini");
    check_one_line(line);
    auto r = parse_reply(line);
    REQUIRE(r.ok());
    CHECK(r->kind == Reply::error);
    CHECK(r->id == 9);
    CHECK(r->code == "not_found");
    CHECK(r->message == "no key 3fa9c2d1 in pool gemini");
    REQUIRE(r->body != nullptr);
    CHECK_FALSE(r->body->HasMember("details"));
  }
  SECTION("error with details") {
    std::string line = error_line(10, Errc::config_invalid, "2 errors", &details);
    check_one_line(line);
    auto r = parse_reply(line);
    REQUIRE(r.ok());
    CHECK(r->kind == Reply::error);
    CHECK(r->id == 10);
    CHECK(r->code == "config_invalid");
    CHECK(r->message == "2 errors");
    REQUIRE(r->body != nullptr);
    REQUIRE(r->body->HasMember("details"));
    CHECK(to_json((*r->body)["details"]) == to_json(details));
  }
  SECTION("event") {
    std::string line = event_line(3, event);
    check_one_line(line);
    auto r = parse_reply(line);
    REQUIRE(r.ok());
    CHECK(r->kind == Reply::event);
    CHECK(r->id == 3);
    CHECK_FALSE(r->end);
    REQUIRE(r->body != nullptr);
    CHECK(to_json(*r->body) == to_json(event));
  }
  SECTION("end without data") {
    std::string line = end_line(3);
    check_one_line(line);
    auto r = parse_reply(line);
    REQUIRE(r.ok());
    CHECK(r->kind == Reply::ok);
    CHECK(r->id == 3);
    CHECK(r->end);
    CHECK(r->body == nullptr);
  }
  SECTION("end with data") {
    std::string line = end_line(std::numeric_limits<int64_t>::max(), &data);
    check_one_line(line);
    auto r = parse_reply(line);
    REQUIRE(r.ok());
    CHECK(r->kind == Reply::ok);
    CHECK(r->id == std::numeric_limits<int64_t>::max());
    CHECK(r->end);
    REQUIRE(r->body != nullptr);
    CHECK(to_json(*r->body) == to_json(data));
  }
  SECTION("every line names the protocol version") {
    for (const std::string& line :
         {ok_line(1, nullptr), error_line(1, Errc::internal, "x"), event_line(1, event),
          end_line(1), request_line(1, "status", data)}) {
      INFO(line);
      rapidjson::Document d = json(line);
      REQUIRE(d.HasMember("v"));
      REQUIRE(d["v"].IsInt());
      CHECK(d["v"].GetInt() == gb::ctl::kVersion);
    }
  }
}

TEST_CASE("request_line parses back through parse_request", "[ctl]") {
  rapidjson::Document args =
      json(R"({"pool":"gemini","keys":["3fa9c2d1","77b0e4a2"],"all":false})");
  std::string line = request_line(11, "keys.reset", args);
  check_one_line(line);
  int64_t id = 0;
  // The reader hands lines over without their newline.
  auto r = parse_request(std::string_view(line).substr(0, line.size() - 1), &id);
  REQUIRE(r.ok());
  CHECK(id == 11);
  CHECK(r->id == 11);
  CHECK(r->cmd == "keys.reset");
  CHECK(to_json(r->args) == to_json(args));

  rapidjson::Document empty(rapidjson::kObjectType);
  auto bare =
      parse_request(request_line(std::numeric_limits<int64_t>::min(), "status", empty), &id);
  REQUIRE(bare.ok());
  CHECK(bare->id == std::numeric_limits<int64_t>::min());
  CHECK(bare->cmd == "status");
  CHECK(bare->args.ObjectEmpty());
}

TEST_CASE("error lines carry errc_name of every code", "[ctl]") {
  for (int i = static_cast<int>(Errc::bad_request); i <= static_cast<int>(Errc::internal); ++i) {
    auto code = static_cast<Errc>(i);
    std::string name = errc_name(code);
    INFO("code " << i << " " << name);
    REQUIRE_FALSE(name.empty());
    CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos);
    std::string line = error_line(i, code, "m");
    check_one_line(line);
    auto r = parse_reply(line);
    REQUIRE(r.ok());
    CHECK(r->kind == Reply::error);
    CHECK(r->id == i);
    CHECK(r->code == name);
    CHECK(r->message == "m");
  }
}

TEST_CASE("quotes, newlines and non-ASCII survive every line kind", "[ctl]") {
  for (const std::string& s : kAwkward) {
    INFO("string of " << s.size() << " bytes: " << s);
    rapidjson::Document v(rapidjson::kObjectType);
    auto& a = v.GetAllocator();
    v.AddMember(rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a),
                rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a), a);

    std::string err = error_line(1, Errc::bad_request, s, &v);
    check_one_line(err);
    auto e = parse_reply(err);
    REQUIRE(e.ok());
    CHECK(e->kind == Reply::error);
    CHECK(e->message == s);
    CHECK(to_json((*e->body)["details"]) == to_json(v));

    for (const std::string& line : {ok_line(2, &v), end_line(2, &v), event_line(2, v)}) {
      check_one_line(line);
      auto r = parse_reply(line);
      REQUIRE(r.ok());
      CHECK(r->id == 2);
      REQUIRE(r->body != nullptr);
      const rapidjson::Value& back = *r->body;
      REQUIRE(back.IsObject());
      REQUIRE(back.MemberCount() == 1);
      const auto& m = *back.MemberBegin();
      CHECK(std::string(m.name.GetString(), m.name.GetStringLength()) == s);
      CHECK(std::string(m.value.GetString(), m.value.GetStringLength()) == s);
    }

    std::string req = request_line(3, s, v);
    check_one_line(req);
    int64_t id = 0;
    auto r = parse_request(req, &id);
    REQUIRE(r.ok());
    CHECK(r->cmd == s);
    CHECK(to_json(r->args) == to_json(v));
  }
}

TEST_CASE("parse_reply refuses lines that are not replies", "[ctl]") {
  struct Case {
    const char* what;
    const char* line;
    const char* mentions;
  };
  const Case cases[] = {
      {"empty", "", "not a JSON object"},
      {"not JSON", "ok", "not a JSON object"},
      {"an array", R"([{"v":1,"id":1,"ok":true}])", "not a JSON object"},
      {"neither ok nor event", R"({"v":1,"id":1})", "neither"},
      {"data without ok", R"({"v":1,"id":1,"data":{}})", "neither"},
      {"ok not a bool", R"({"v":1,"id":1,"ok":"true"})", "neither"},
      {"ok null", R"({"v":1,"id":1,"ok":null})", "neither"},
      {"error without error", R"({"v":1,"id":1,"ok":false})", "\"error\""},
      {"error not an object", R"({"v":1,"id":1,"ok":false,"error":"not_found"})", "\"error\""},
      {"error null", R"({"v":1,"id":1,"ok":false,"error":null})", "\"error\""},
  };
  for (const Case& c : cases) {
    INFO(c.what << ": " << c.line);
    auto r = parse_reply(c.line);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::bad_request);
    CHECK_THAT(r.error().context, Catch::Contains(c.mentions));
  }
}

TEST_CASE("parse_reply ignores fields it does not know", "[ctl]") {
  auto r = parse_reply(R"({"v":1,"id":4,"ok":true,"data":{"a":1},"later":[1,2],"trace":"x"})");
  REQUIRE(r.ok());
  CHECK(r->kind == Reply::ok);
  CHECK(r->id == 4);
  REQUIRE(r->body != nullptr);
  CHECK(to_json(*r->body) == R"({"a":1})");

  auto e = parse_reply(R"({"id":5,"ok":false,"error":{"code":"x_new","message":"m","hint":1}})");
  REQUIRE(e.ok());
  CHECK(e->kind == Reply::error);
  CHECK(e->code == "x_new");
  CHECK(e->message == "m");
}

TEST_CASE("NUL bytes survive data, events and requests", "[ctl]") {
  rapidjson::Document v(rapidjson::kObjectType);
  auto& a = v.GetAllocator();
  v.AddMember("s", rapidjson::Value(kWithNul.data(), 10, a), a);
  for (const std::string& line : {ok_line(1, &v), end_line(1, &v), event_line(1, v)}) {
    auto r = parse_reply(line);
    REQUIRE(r.ok());
    REQUIRE(r->body != nullptr);
    const rapidjson::Value& s = (*r->body)["s"];
    CHECK(std::string(s.GetString(), s.GetStringLength()) == kWithNul);
  }
  int64_t id = 0;
  auto req = parse_request(request_line(2, kWithNul, v), &id);
  REQUIRE(req.ok());
  CHECK(req->cmd == kWithNul);
}

// A selector echoed in a message may hold a NUL: the whole string comes back.
TEST_CASE("an error message with a NUL byte survives parse_reply", "[ctl]") {
  auto r = parse_reply(error_line(1, Errc::not_found, kWithNul));
  REQUIRE(r.ok());
  CHECK(r->message == kWithNul);
}

TEST_CASE("a request nested a million levels deep is refused, not a crash", "[ctl]") {
  int64_t id = -1;
  auto deep = parse_request(std::string(1000000, '['), &id);
  REQUIRE_FALSE(deep);
  CHECK(deep.error().code == gb::Errc::bad_request);
  auto inside = parse_request(R"({"id":3,"cmd":"keys.add","args":{"keys":)" +
                                  std::string(100000, '[') + "\"k\"" + std::string(100000, ']') +
                                  "}}",
                              &id);
  CHECK_FALSE(inside);
  CHECK_FALSE(parse_reply(std::string(1000000, '{')));
  // Brackets inside strings do not count.
  auto fine = parse_request(R"({"id":4,"cmd":"x","args":{"s":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}})", &id);
  CHECK(fine);
}

TEST_CASE("text after the request object is refused", "[ctl]") {
  int64_t id = 0;
  auto two = parse_request(R"({"cmd":"status"}{"cmd":"reload"})", &id);
  REQUIRE_FALSE(two);
  CHECK(two.error().code == gb::Errc::bad_request);
  CHECK(parse_request(R"({"cmd":"status"}  )", &id));
}
