#include "llm/openai/request_common.h"

#include <rapidjson/error/en.h>

#include <cmath>
#include <cstdio>
#include <utility>

#include "base/json_depth.h"

namespace gb::llm::openai::req {

namespace {

bool hex4(std::string_view s, size_t at, unsigned* v) {
  if (at + 4 > s.size()) {
    return false;
  }
  *v = 0;
  for (size_t i = at; i < at + 4; ++i) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) {
      return false;
    }
    *v = *v * 16 + static_cast<unsigned>(d);
  }
  return true;
}

// A \uDC00-\uDFFF escape without a high surrogate before it: RapidJSON decodes it to
// bytes that are not UTF-8, which would reach the upstream's JSON.
bool has_lone_low_surrogate(std::string_view json) {
  bool after_high = false;
  for (size_t i = 0; i + 1 < json.size(); ++i) {
    if (json[i] != '\\') {
      after_high = false;
      continue;
    }
    if (json[i + 1] != 'u') {
      after_high = false;
      ++i;  // an escaped character, '\\' included
      continue;
    }
    unsigned v = 0;
    if (!hex4(json, i + 2, &v)) {
      return false;  // malformed: the parser reports it
    }
    if (v >= 0xDC00 && v <= 0xDFFF && !after_high) {
      return true;
    }
    after_high = v >= 0xD800 && v <= 0xDBFF;
    i += 5;
  }
  return false;
}

}  // namespace

bool parse_body(std::string_view json, rapidjson::Document* doc, RequestError* err) {
  if (has_lone_low_surrogate(json)) {
    return fail(err, bad_value("", "the JSON body holds a \\u escape of a lone low surrogate, "
                                   "which is not a character"));
  }
  if (!json_depth_within(json, kMaxDepth)) {
    return fail(err, bad_value("", "the JSON body nests deeper than " + std::to_string(kMaxDepth) +
                                       " levels"));
  }
  doc->Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (doc->HasParseError()) {
    return fail(err, {400,
                      std::string("We could not parse the JSON body of your request: ") +
                          rapidjson::GetParseError_En(doc->GetParseError()) + " (at byte " +
                          std::to_string(doc->GetErrorOffset()) + ").",
                      "", ""});
  }
  if (!doc->IsObject()) {
    return fail(err, {400, "The request body must be a JSON object.", "", ""});
  }
  return true;
}

bool fail(RequestError* err, RequestError e) {
  *err = std::move(e);
  return false;
}

RequestError bad_type(std::string param, std::string_view expected) {
  std::string m = "Invalid type for '" + param + "': expected " + std::string(expected) + ".";
  return {400, std::move(m), std::move(param), "invalid_type"};
}

RequestError bad_value(std::string param, std::string_view why) {
  std::string m = param.empty() ? "Invalid request: " + std::string(why) + "."
                                : "Invalid value for '" + param + "': " + std::string(why) + ".";
  return {400, std::move(m), std::move(param), "invalid_value"};
}

RequestError missing(std::string param) {
  return {400, "Missing required parameter: '" + param + "'.", std::move(param),
          "missing_required_parameter"};
}

RequestError unknown(std::string param) {
  return {400, "Unrecognized request argument supplied: " + param, std::move(param),
          "unknown_parameter"};
}

RequestError unsupported(std::string param, std::string_view why) {
  return {400,
          "Unsupported parameter: '" + param + "' is not supported by gbd's Gemini translation (" +
              std::string(why) + ").",
          std::move(param), "unsupported_parameter"};
}

RequestError too_large(std::string param, std::string_view why) {
  std::string m = "Request too large: " + std::string(why);
  m += param.empty() ? "." : " ('" + param + "').";
  return {413, std::move(m), std::move(param), ""};
}

std::string field_path(std::string_view base, std::string_view name) {
  std::string p(base);
  if (!p.empty()) {
    p += '.';
  }
  p += name;
  return p;
}

std::string index_path(std::string_view base, size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

std::string_view sv(const Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

Value str(std::string_view s, Alloc& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

const Value* find(const Value& obj, std::string_view name) {
  auto it = obj.FindMember(Value(rapidjson::StringRef(name.data(), name.size())));
  if (it == obj.MemberEnd() || it->value.IsNull()) {
    return nullptr;
  }
  return &it->value;
}

bool only_known(const Value& obj, std::initializer_list<std::string_view> known,
                std::string_view path, RequestError* err) {
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    std::string_view name = sv(it->name);
    bool found = false;
    for (std::string_view k : known) {
      found = found || k == name;
    }
    if (!found) {
      return fail(err, unknown(field_path(path, name)));
    }
  }
  return true;
}

bool read_string(const Value& obj, std::string_view name, std::string_view path,
                 std::optional<std::string_view>* out, RequestError* err) {
  const Value* v = find(obj, name);
  if (v == nullptr) {
    return true;
  }
  if (!v->IsString()) {
    return fail(err, bad_type(field_path(path, name), "a string"));
  }
  *out = sv(*v);
  return true;
}

bool read_bool(const Value& obj, std::string_view name, std::string_view path,
               std::optional<bool>* out, RequestError* err) {
  const Value* v = find(obj, name);
  if (v == nullptr) {
    return true;
  }
  if (!v->IsBool()) {
    return fail(err, bad_type(field_path(path, name), "a boolean"));
  }
  *out = v->GetBool();
  return true;
}

bool read_int(const Value& obj, std::string_view name, std::string_view path, int64_t lo,
              int64_t hi, std::optional<int64_t>* out, RequestError* err) {
  const Value* v = find(obj, name);
  if (v == nullptr) {
    return true;
  }
  // 5.0 is an integer too; 2^63 and beyond are out of every range asked here.
  bool integral = v->IsInt64() || (v->IsDouble() && std::floor(v->GetDouble()) == v->GetDouble() &&
                                   std::fabs(v->GetDouble()) < 9.2e18);
  if (!integral) {
    return fail(err, bad_type(field_path(path, name), "an integer"));
  }
  int64_t n = v->IsInt64() ? v->GetInt64() : static_cast<int64_t>(v->GetDouble());
  if (n < lo || n > hi) {
    return fail(err,
                bad_value(field_path(path, name), "expected an integer from " + std::to_string(lo) +
                                                      " to " + std::to_string(hi)));
  }
  *out = n;
  return true;
}

bool read_number(const Value& obj, std::string_view name, std::string_view path, double lo,
                 double hi, std::optional<double>* out, RequestError* err) {
  const Value* v = find(obj, name);
  if (v == nullptr) {
    return true;
  }
  if (!v->IsNumber()) {
    return fail(err, bad_type(field_path(path, name), "a number"));
  }
  double d = v->GetDouble();
  if (!(d >= lo && d <= hi)) {
    char range[64];
    std::snprintf(range, sizeof range, "expected a number from %g to %g", lo, hi);
    return fail(err, bad_value(field_path(path, name), range));
  }
  *out = d;
  return true;
}

bool read_object(const Value& obj, std::string_view name, std::string_view path, const Value** out,
                 RequestError* err) {
  const Value* v = find(obj, name);
  if (v != nullptr && !v->IsObject()) {
    return fail(err, bad_type(field_path(path, name), "an object"));
  }
  *out = v;
  return true;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) |
                 uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) {
      n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    }
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool is_base64(std::string_view s) {
  size_t n = s.size();
  while (n > 0 && s[n - 1] == '=') {
    --n;
  }
  if (s.size() - n > 2 || n % 4 == 1) {
    return false;
  }
  for (size_t i = 0; i < n; ++i) {
    char c = s[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '-' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (lower(s[i]) != prefix[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string clean_mime_type(std::string_view mime) {
  mime = mime.substr(0, mime.find(';'));
  std::string out;
  for (char c : mime) {
    c = lower(c);
    bool token = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' || c == '.' ||
                 c == '+' || c == '-' || c == '_' || c == '!' || c == '#' || c == '$' || c == '&' ||
                 c == '^';
    if (token) {
      out += c;
    }
  }
  // A common misspelling that Gemini does not list among its image types.
  return out == "image/jpg" ? "image/jpeg" : out;
}

std::optional<DataUri> parse_data_uri(std::string_view uri) {
  if (!starts_with_nocase(uri, "data:")) {
    return std::nullopt;
  }
  size_t comma = uri.find(',');
  if (comma == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view meta = uri.substr(5, comma - 5);
  constexpr std::string_view kB64 = ";base64";
  if (meta.size() < kB64.size() ||
      !starts_with_nocase(meta.substr(meta.size() - kB64.size()), kB64)) {
    return std::nullopt;
  }
  DataUri d;
  d.mime_type = clean_mime_type(meta.substr(0, meta.size() - kB64.size()));
  d.data = uri.substr(comma + 1);
  if (d.mime_type.empty() || d.mime_type.find('/') == std::string::npos) {
    return std::nullopt;
  }
  return d;
}

bool read_model(const Value& req, std::string* as_named, std::string* upstream, RequestError* err) {
  std::optional<std::string_view> model;
  if (!read_string(req, "model", "", &model, err)) {
    return false;
  }
  if (!model || model->empty()) {
    return fail(err, missing("model"));
  }
  std::string_view name = *model;
  if (name.substr(0, 7) == "models/") {
    name.remove_prefix(7);
  }
  bool plain = !name.empty() && name.size() <= 128 && name != "." && name != "..";
  for (char c : name) {
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-');
  }
  if (!plain) {
    return fail(err, bad_value("model",
                               "expected a Gemini model name such as gemini-2.5-flash "
                               "(letters, digits, '.', '_' and '-')"));
  }
  *as_named = std::string(*model);
  *upstream = std::string(name);
  return true;
}

Family family_of(std::string_view model) {
  if (model.substr(0, 10) == "gemini-2.5") {
    return Family::gemini_2_5;
  }
  // "gemini-3-pro-preview", "gemini-3.1-…": 3 followed by anything but a digit.
  if (model.substr(0, 8) == "gemini-3" && (model.size() == 8 || model[8] < '0' || model[8] > '9')) {
    return Family::gemini_3;
  }
  return Family::other;
}

}  // namespace gb::llm::openai::req
