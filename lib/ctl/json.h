// Small helpers for building and reading the protocol's JSON with RapidJSON.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace gb::ctl {

using Alloc = rapidjson::Document::AllocatorType;

// Adds members to an object value: Obj(v, a).str("id", id).num("n", 3).
class Obj {
 public:
  Obj(rapidjson::Value& v, Alloc& a) : v_(v), a_(a) {
    if (!v_.IsObject()) {
      v_.SetObject();
    }
  }
  Obj& str(const char* key, std::string_view s);
  Obj& num(const char* key, int64_t n);
  Obj& real(const char* key, double d);
  Obj& flag(const char* key, bool b);
  Obj& val(const char* key, rapidjson::Value v);

 private:
  rapidjson::Value& v_;
  Alloc& a_;
};

rapidjson::Value json_str(std::string_view s, Alloc& a);
rapidjson::Value json_strs(const std::vector<std::string>& list, Alloc& a);

// Readers of a request's args; a wrong type is a bad_request naming the field.
Result<std::string> arg_str(const rapidjson::Value& args, const char* key, std::string dflt = "");
Result<int64_t> arg_int(const rapidjson::Value& args, const char* key, int64_t dflt, int64_t min,
                        int64_t max);
Result<bool> arg_bool(const rapidjson::Value& args, const char* key, bool dflt = false);
Result<std::vector<std::string>> arg_strs(const rapidjson::Value& args, const char* key);

// Readers of a reply's data, lenient: a missing or mistyped field gives the default.
std::string get_str(const rapidjson::Value& v, const char* key, std::string dflt = "");
int64_t get_int(const rapidjson::Value& v, const char* key, int64_t dflt = 0);
double get_real(const rapidjson::Value& v, const char* key, double dflt = 0);
bool get_bool(const rapidjson::Value& v, const char* key, bool dflt = false);
// The array member `key`, or an empty array.
const rapidjson::Value& get_array(const rapidjson::Value& v, const char* key);

}  // namespace gb::ctl
