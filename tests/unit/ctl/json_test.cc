#include "ctl/json.h"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "ctl/protocol.h"

using gb::Errc;
using gb::ctl::arg_bool;
using gb::ctl::arg_int;
using gb::ctl::arg_str;
using gb::ctl::arg_strs;
using gb::ctl::get_array;
using gb::ctl::get_bool;
using gb::ctl::get_int;
using gb::ctl::get_real;
using gb::ctl::get_str;
using gb::ctl::json_str;
using gb::ctl::json_strs;
using gb::ctl::Obj;
using gb::ctl::to_json;

namespace {

rapidjson::Document json(const char* text) {
  rapidjson::Document d;
  d.Parse(text);
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

template <typename T>
void check_bad(const gb::Result<T>& r, const char* field) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::bad_request);
  CHECK(r.error().side == gb::Side::client);
  CHECK_THAT(r.error().context, Catch::Contains(std::string("\"") + field + "\""));
}

constexpr int64_t kMin64 = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax64 = std::numeric_limits<int64_t>::max();

}  // namespace

TEST_CASE("arg readers give their default when the field is absent or null", "[ctl]") {
  for (const char* text : {R"({})", R"({"s":null,"n":null,"b":null,"l":null})", R"({"other":1})"}) {
    INFO(text);
    rapidjson::Document args = json(text);
    CHECK(arg_str(args, "s").value() == "");
    CHECK(arg_str(args, "s", "dflt").value() == "dflt");
    CHECK(arg_int(args, "n", 20, 0, 100).value() == 20);
    CHECK(arg_int(args, "n", -5, kMin64, kMax64).value() == -5);
    CHECK(arg_bool(args, "b").value() == false);
    CHECK(arg_bool(args, "b", true).value() == true);
    CHECK(arg_strs(args, "l").value().empty());
  }
}

TEST_CASE("arg readers give their default when args is not an object", "[ctl]") {
  const rapidjson::Value null_value;
  rapidjson::Document array = json("[1]");
  for (const rapidjson::Value* args : {&null_value, static_cast<const rapidjson::Value*>(&array)}) {
    CHECK(arg_str(*args, "s", "d").value() == "d");
    CHECK(arg_int(*args, "n", 3, 0, 10).value() == 3);
    CHECK(arg_bool(*args, "b", true).value() == true);
    CHECK(arg_strs(*args, "l").value().empty());
  }
}

TEST_CASE("arg readers read values of the right type", "[ctl]") {
  rapidjson::Document args =
      json(R"({"pool":"gemini","empty":"","n":42,"neg":-7,"big":9223372036854775807,)"
           R"("yes":true,"no":false,"keys":["3fa9c2d1","AIza\u2026x9Qk"],"none":[]})");
  CHECK(arg_str(args, "pool", "x").value() == "gemini");
  CHECK(arg_str(args, "empty", "x").value() == "");
  CHECK(arg_int(args, "n", 0, 0, 100).value() == 42);
  CHECK(arg_int(args, "neg", 0, -10, 10).value() == -7);
  CHECK(arg_int(args, "big", 0, 0, kMax64).value() == kMax64);
  CHECK(arg_bool(args, "yes").value() == true);
  CHECK(arg_bool(args, "no", true).value() == false);
  CHECK(arg_strs(args, "keys").value() ==
        std::vector<std::string>{"3fa9c2d1", "AIza\xe2\x80\xa6x9Qk"});
  CHECK(arg_strs(args, "none").value().empty());
}

TEST_CASE("arg_str keeps NUL bytes inside a string", "[ctl]") {
  rapidjson::Document args = json(R"({"s":"a\u0000b"})");
  CHECK(arg_str(args, "s").value() == std::string("a\0b", 3));
}

TEST_CASE("arg_int takes both ends of its range and nothing past them", "[ctl]") {
  rapidjson::Document args = json(R"({"lo":0,"hi":10000,"under":-1,"over":10001})");
  CHECK(arg_int(args, "lo", 20, 0, 10000).value() == 0);
  CHECK(arg_int(args, "hi", 20, 0, 10000).value() == 10000);
  auto under = arg_int(args, "under", 20, 0, 10000);
  check_bad(under, "under");
  CHECK_THAT(under.error().context, Catch::Contains("from 0 to 10000"));
  check_bad(arg_int(args, "over", 20, 0, 10000), "over");
}

TEST_CASE("arg readers refuse wrong types with a bad_request naming the field", "[ctl]") {
  rapidjson::Document args =
      json(R"({"num":1,"str":"1","real":1.0,"frac":2.5,"huge":18446744073709551615,)"
           R"("bool":true,"arr":["a"],"obj":{"a":"b"},"mixed":["a",1],"nulls":[null],)"
           R"("nested":[["a"]]})");

  for (const char* f : {"num", "bool", "arr", "obj"}) {
    INFO("arg_str " << f);
    check_bad(arg_str(args, f), f);
  }
  for (const char* f : {"str", "real", "frac", "huge", "bool", "arr", "obj"}) {
    INFO("arg_int " << f);
    check_bad(arg_int(args, f, 0, kMin64, kMax64), f);
  }
  for (const char* f : {"num", "str", "arr", "obj"}) {
    INFO("arg_bool " << f);
    check_bad(arg_bool(args, f), f);
  }
  for (const char* f : {"num", "str", "bool", "obj", "mixed", "nulls", "nested"}) {
    INFO("arg_strs " << f);
    check_bad(arg_strs(args, f), f);
  }
}

TEST_CASE("get readers are lenient: missing, null or mistyped fields give the default", "[ctl]") {
  rapidjson::Document v =
      json(R"({"s":"x","n":3,"r":2.5,"b":true,"a":[1,2],"null":null,"big":18446744073709551615})");

  CHECK(get_str(v, "s") == "x");
  CHECK(get_str(v, "n", "d") == "d");
  CHECK(get_str(v, "null", "d") == "d");
  CHECK(get_str(v, "missing") == "");

  CHECK(get_int(v, "n") == 3);
  CHECK(get_int(v, "r", -1) == -1);
  CHECK(get_int(v, "s", -1) == -1);
  CHECK(get_int(v, "big", -1) == -1);
  CHECK(get_int(v, "null", 9) == 9);
  CHECK(get_int(v, "missing") == 0);

  CHECK(get_real(v, "r") == 2.5);
  CHECK(get_real(v, "n") == 3.0);
  CHECK(get_real(v, "s", -1.5) == -1.5);
  CHECK(get_real(v, "missing") == 0.0);

  CHECK(get_bool(v, "b") == true);
  CHECK(get_bool(v, "n", true) == true);
  CHECK(get_bool(v, "s") == false);
  CHECK(get_bool(v, "null", true) == true);

  CHECK(get_array(v, "a").Size() == 2);
  for (const char* f : {"s", "n", "null", "missing"}) {
    INFO("get_array " << f);
    const rapidjson::Value& a = get_array(v, f);
    REQUIRE(a.IsArray());
    CHECK(a.Empty());
  }
}

TEST_CASE("get readers on a value that is not an object give the default", "[ctl]") {
  rapidjson::Document arr = json(R"(["s",1])");
  const rapidjson::Value null_value;
  for (const rapidjson::Value* v : {static_cast<const rapidjson::Value*>(&arr), &null_value}) {
    CHECK(get_str(*v, "s", "d") == "d");
    CHECK(get_int(*v, "n", 4) == 4);
    CHECK(get_real(*v, "r", 0.5) == 0.5);
    CHECK(get_bool(*v, "b", true) == true);
    CHECK(get_array(*v, "a").Empty());
  }
}

TEST_CASE("Obj builds an object member by member, in order", "[ctl]") {
  rapidjson::Document d;  // null: Obj makes it an object
  auto& a = d.GetAllocator();
  rapidjson::Value inner(rapidjson::kArrayType);
  inner.PushBack(1, a);
  Obj(d, a)
      .str("id", "3fa9c2d1")
      .str("quote", "a \"b\"\n")
      .num("n", -3)
      .num("max", kMax64)
      .real("r", 0.25)
      .flag("t", true)
      .flag("f", false)
      .val("arr", std::move(inner));
  CHECK(to_json(d) == R"({"id":"3fa9c2d1","quote":"a \"b\"\n","n":-3,"max":9223372036854775807,)"
                      R"("r":0.25,"t":true,"f":false,"arr":[1]})");
}

TEST_CASE("Obj adds to an object that already has members", "[ctl]") {
  rapidjson::Document d = json(R"({"a":1})");
  Obj(d, d.GetAllocator()).str("b", "2");
  CHECK(to_json(d) == R"({"a":1,"b":"2"})");
}

TEST_CASE("Obj copies its strings: the source may go away", "[ctl]") {
  rapidjson::Document d;
  {
    std::string key_value(100, 'k');
    Obj(d, d.GetAllocator()).str("s", key_value);
    key_value.assign(100, '!');
  }
  CHECK(get_str(d, "s") == std::string(100, 'k'));
}

TEST_CASE("json_str and json_strs copy strings with their exact bytes", "[ctl]") {
  rapidjson::Document d;
  auto& a = d.GetAllocator();
  std::string s("x\0y\xc3\xa9", 5);
  rapidjson::Value v = json_str(s, a);
  REQUIRE(v.IsString());
  CHECK(std::string(v.GetString(), v.GetStringLength()) == s);

  rapidjson::Value list = json_strs({"a", "", s}, a);
  REQUIRE(list.IsArray());
  REQUIRE(list.Size() == 3);
  CHECK(std::string(list[2].GetString(), list[2].GetStringLength()) == s);
  CHECK(json_strs({}, a).Empty());
}
