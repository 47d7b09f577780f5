#include "ctl/json.h"

namespace gb::ctl {

namespace {
Error bad(const char* key, const char* what) {
  return Error::make(Errc::bad_request, Side::client,
                     std::string("argument \"") + key + "\" must be " + what);
}
const rapidjson::Value* member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) {
    return nullptr;
  }
  auto it = v.FindMember(key);
  return it == v.MemberEnd() || it->value.IsNull() ? nullptr : &it->value;
}
}  // namespace

rapidjson::Value json_str(std::string_view s, Alloc& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

rapidjson::Value json_strs(const std::vector<std::string>& list, Alloc& a) {
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const std::string& s : list) {
    arr.PushBack(json_str(s, a), a);
  }
  return arr;
}

Obj& Obj::str(const char* key, std::string_view s) {
  return val(key, json_str(s, a_));
}
Obj& Obj::num(const char* key, int64_t n) {
  return val(key, rapidjson::Value(n));
}
Obj& Obj::real(const char* key, double d) {
  return val(key, rapidjson::Value(d));
}
Obj& Obj::flag(const char* key, bool b) {
  return val(key, rapidjson::Value(b));
}
Obj& Obj::val(const char* key, rapidjson::Value v) {
  v_.AddMember(rapidjson::Value(key, a_), v, a_);
  return *this;
}

Result<std::string> arg_str(const rapidjson::Value& args, const char* key, std::string dflt) {
  const rapidjson::Value* v = member(args, key);
  if (v == nullptr) {
    return dflt;
  }
  if (!v->IsString()) {
    return bad(key, "a string");
  }
  return std::string(v->GetString(), v->GetStringLength());
}

Result<int64_t> arg_int(const rapidjson::Value& args, const char* key, int64_t dflt, int64_t min,
                        int64_t max) {
  const rapidjson::Value* v = member(args, key);
  if (v == nullptr) {
    return dflt;
  }
  if (!v->IsInt64() || v->GetInt64() < min || v->GetInt64() > max) {
    return Error::make(Errc::bad_request, Side::client,
                       std::string("argument \"") + key + "\" must be an integer from " +
                           std::to_string(min) + " to " + std::to_string(max));
  }
  return v->GetInt64();
}

Result<bool> arg_bool(const rapidjson::Value& args, const char* key, bool dflt) {
  const rapidjson::Value* v = member(args, key);
  if (v == nullptr) {
    return dflt;
  }
  if (!v->IsBool()) {
    return bad(key, "true or false");
  }
  return v->GetBool();
}

Result<std::vector<std::string>> arg_strs(const rapidjson::Value& args, const char* key) {
  std::vector<std::string> out;
  const rapidjson::Value* v = member(args, key);
  if (v == nullptr) {
    return out;
  }
  if (!v->IsArray()) {
    return bad(key, "an array of strings");
  }
  for (const auto& e : v->GetArray()) {
    if (!e.IsString()) {
      return bad(key, "an array of strings");
    }
    out.emplace_back(e.GetString(), e.GetStringLength());
  }
  return out;
}

std::string get_str(const rapidjson::Value& v, const char* key, std::string dflt) {
  const rapidjson::Value* m = member(v, key);
  return m != nullptr && m->IsString() ? std::string(m->GetString(), m->GetStringLength()) : dflt;
}

int64_t get_int(const rapidjson::Value& v, const char* key, int64_t dflt) {
  const rapidjson::Value* m = member(v, key);
  return m != nullptr && m->IsInt64() ? m->GetInt64() : dflt;
}

double get_real(const rapidjson::Value& v, const char* key, double dflt) {
  const rapidjson::Value* m = member(v, key);
  return m != nullptr && m->IsNumber() ? m->GetDouble() : dflt;
}

bool get_bool(const rapidjson::Value& v, const char* key, bool dflt) {
  const rapidjson::Value* m = member(v, key);
  return m != nullptr && m->IsBool() ? m->GetBool() : dflt;
}

const rapidjson::Value& get_array(const rapidjson::Value& v, const char* key) {
  static const rapidjson::Value kEmpty(rapidjson::kArrayType);
  const rapidjson::Value* m = member(v, key);
  return m != nullptr && m->IsArray() ? *m : kEmpty;
}

}  // namespace gb::ctl
