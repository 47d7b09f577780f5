// What the OpenAI request translators share (chat_request.cc, request_*.cc): refusals in
// OpenAI's terms, typed reads of JSON members that name the offending field, the nesting
// guard, and the two small codecs a translation needs (data: URIs, base64). Pure.
//
// Convention: a function that can refuse returns bool; false means *err says why, and
// the caller returns false at once (the first refusal is the one the client sees).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "llm/openai/chat_request.h"

namespace gb::llm::openai::req {

using Value = rapidjson::Value;
using Alloc = rapidjson::Document::AllocatorType;

// RapidJSON parses (and copies, and writes) recursively: a body of a few thousand '['
// would overflow the stack, so every JSON text is measured first (base/json_depth.h).
// Nothing in a chat request legitimately nests this deep; the deepest part is a client's
// JSON Schema, and Gemini refuses those long before.
constexpr int kMaxDepth = 128;

// Parses a request body (UTF-8 checked, depth guarded) that must be a JSON object.
bool parse_body(std::string_view json, rapidjson::Document* doc, RequestError* err);

// ---- refusals (all 400 invalid_request_error unless said) ----
bool fail(RequestError* err, RequestError e);
// "Invalid type for 'p': expected <expected>."
RequestError bad_type(std::string param, std::string_view expected);
// "Invalid value for 'p': <why>."
RequestError bad_value(std::string param, std::string_view why);
// "Missing required parameter: 'p'."
RequestError missing(std::string param);
// "Unrecognized request argument supplied: p" (an unknown field anywhere).
RequestError unknown(std::string param);
// A field or value that would change the answer but that Gemini cannot honour.
RequestError unsupported(std::string param, std::string_view why);
// 413: a count or size over gbd's limits.
RequestError too_large(std::string param, std::string_view why);

// ---- paths of fields, as error.param shows them ----
std::string field_path(std::string_view base, std::string_view name);  // "a.b"
std::string index_path(std::string_view base, size_t i);               // "a[3]"

// ---- reading members ----
std::string_view sv(const Value& v);      // v.IsString()
Value str(std::string_view s, Alloc& a);  // a copy owned by `a`

// The member `name`, or nullptr when it is absent or null: OpenAI reads null as unset.
const Value* find(const Value& obj, std::string_view name);

// Refuses the first member of `obj` whose name is not in `known`.
bool only_known(const Value& obj, std::initializer_list<std::string_view> known,
                std::string_view path, RequestError* err);

// Typed reads of optional members: absent/null leaves *out empty; a wrong type or a value
// outside [lo, hi] refuses, naming path.name.
bool read_string(const Value& obj, std::string_view name, std::string_view path,
                 std::optional<std::string_view>* out, RequestError* err);
bool read_bool(const Value& obj, std::string_view name, std::string_view path,
               std::optional<bool>* out, RequestError* err);
bool read_int(const Value& obj, std::string_view name, std::string_view path, int64_t lo,
              int64_t hi, std::optional<int64_t>* out, RequestError* err);
bool read_number(const Value& obj, std::string_view name, std::string_view path, double lo,
                 double hi, std::optional<double>* out, RequestError* err);
// An object member (absent/null: nullptr).
bool read_object(const Value& obj, std::string_view name, std::string_view path, const Value** out,
                 RequestError* err);

// ---- codecs ----
std::string base64_encode(std::string_view bytes);
// Standard or URL-safe alphabet, padded or not: what Gemini's bytes fields accept
// (WIRE.md §0.1), so a client's base64 that passes here passes upstream.
bool is_base64(std::string_view s);

// "data:<mime>[;params];base64,<payload>" (only base64 payloads: Gemini takes bytes).
struct DataUri {
  std::string mime_type;  // lower-case, parameters dropped, image/jpg read as image/jpeg
  std::string_view data;  // the base64 payload, as sent
};
std::optional<DataUri> parse_data_uri(std::string_view uri);

// A media type cleaned for Gemini: parameters and spaces dropped, lower-case, only
// token characters kept ("" when nothing is left).
std::string clean_mime_type(std::string_view mime);

// ---- models ----
// The request's "model": required, a string. *as_named is the client's spelling (echoed
// in answers); *upstream drops a "models/" prefix and is what goes into the upstream URL
// path, so it is refused unless it is a plain name: [A-Za-z0-9._-], at most 128 bytes.
bool read_model(const Value& req, std::string* as_named, std::string* upstream, RequestError* err);

enum class Family { gemini_2_5, gemini_3, other };
Family family_of(std::string_view model);

}  // namespace gb::llm::openai::req
