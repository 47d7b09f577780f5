#include "llm/openai/request_generation.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "llm/openai/schema.h"

namespace gb::llm::openai::req {

namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();

class Config {
 public:
  explicit Config(Alloc& a) : a_(a), v_(rapidjson::kObjectType) {}
  void set(const char* name, Value v) {
    v_.AddMember(rapidjson::StringRef(name), std::move(v), a_);
  }
  void set(const char* name, std::string_view s) { set(name, str(s, a_)); }
  Alloc& alloc() { return a_; }
  Value take() { return std::move(v_); }
  bool empty() const { return v_.ObjectEmpty(); }

 private:
  Alloc& a_;
  Value v_;
};

// A number passed through as the client wrote it (an integer stays one).
bool copy_number(const Value& req, const char* name, double lo, double hi, const char* gemini,
                 Config* gc, RequestError* err) {
  std::optional<double> d;
  if (!read_number(req, name, "", lo, hi, &d, err)) {
    return false;
  }
  if (d) {
    gc->set(gemini, Value(*find(req, name), gc->alloc()));
  }
  return true;
}

bool sampling(const Value& req, Config* gc, RequestError* err) {
  std::optional<int64_t> top_k;
  std::optional<int64_t> seed;
  if (!copy_number(req, "temperature", 0, 2, "temperature", gc, err) ||
      !copy_number(req, "top_p", 0, 1, "topP", gc, err) ||
      !copy_number(req, "frequency_penalty", -2, 2, "frequencyPenalty", gc, err) ||
      !copy_number(req, "presence_penalty", -2, 2, "presencePenalty", gc, err) ||
      !read_int(req, "top_k", "", 1, kInt32Max, &top_k, err) ||
      !read_int(req, "seed", "", kInt32Min, kInt32Max, &seed, err)) {
    return false;
  }
  if (top_k) {
    gc->set("topK", Value(*top_k));
  }
  if (seed) {
    gc->set("seed", Value(*seed));
  }
  return true;
}

bool lengths(const Value& req, Config* gc, unsigned* n, RequestError* err) {
  std::optional<int64_t> completion;
  std::optional<int64_t> max_tokens;
  std::optional<int64_t> candidates;
  if (!read_int(req, "max_completion_tokens", "", 1, kInt32Max, &completion, err) ||
      !read_int(req, "max_tokens", "", 1, kInt32Max, &max_tokens, err) ||
      !read_int(req, "n", "", 1, kMaxCandidates, &candidates, err)) {
    return false;
  }
  // Both count thinking tokens on Gemini 2.5 and 3, as max_completion_tokens does.
  if (completion || max_tokens) {
    gc->set("maxOutputTokens", Value(completion ? *completion : *max_tokens));
  }
  *n = candidates ? static_cast<unsigned>(*candidates) : 1;
  if (*n > 1) {
    gc->set("candidateCount", Value(*n));
  }
  const Value* stop = find(req, "stop");
  if (stop == nullptr) {
    return true;
  }
  Value list(rapidjson::kArrayType);
  if (stop->IsString()) {
    list.PushBack(Value(*stop, gc->alloc()), gc->alloc());
  } else if (stop->IsArray()) {
    if (stop->Size() > kMaxStopSequences) {
      return fail(err, bad_value("stop", "Gemini takes at most 5 stop sequences"));
    }
    for (rapidjson::SizeType i = 0; i < stop->Size(); ++i) {
      if (!(*stop)[i].IsString()) {
        return fail(err, bad_type(index_path("stop", i), "a string"));
      }
      list.PushBack(Value((*stop)[i], gc->alloc()), gc->alloc());
    }
  } else {
    return fail(err, bad_type("stop", "a string or an array of strings"));
  }
  if (!list.Empty()) {
    gc->set("stopSequences", std::move(list));
  }
  return true;
}

bool logprobs(const Value& req, Config* gc, RequestError* err) {
  std::optional<bool> on;
  std::optional<int64_t> top;
  if (!read_bool(req, "logprobs", "", &on, err) ||
      !read_int(req, "top_logprobs", "", 0, 20, &top, err)) {
    return false;
  }
  if (top && on != true) {
    return fail(err, bad_value("top_logprobs", "logprobs must be true to use top_logprobs"));
  }
  if (on == true) {
    gc->set("responseLogprobs", Value(true));
  }
  if (top && *top > 0) {
    gc->set("logprobs", Value(*top));
  }
  return true;
}

bool json_schema(const Value& rf, Config* gc, RequestError* err) {
  constexpr std::string_view kAt = "response_format.json_schema";
  const Value* js = nullptr;
  if (!read_object(rf, "json_schema", "response_format", &js, err)) {
    return false;
  }
  if (js == nullptr) {
    return fail(err, missing(std::string(kAt)));
  }
  std::optional<std::string_view> name;
  std::optional<std::string_view> description;
  std::optional<bool> strict;
  const Value* schema = nullptr;
  if (!only_known(*js, {"name", "description", "schema", "strict"}, kAt, err) ||
      !read_string(*js, "name", kAt, &name, err) ||
      !read_string(*js, "description", kAt, &description, err) ||
      !read_bool(*js, "strict", kAt, &strict, err) ||
      !read_object(*js, "schema", kAt, &schema, err)) {
    return false;
  }
  if (!name) {
    return fail(err, missing(field_path(kAt, "name")));
  }
  gc->set("responseMimeType", "application/json");
  if (schema == nullptr) {
    return true;
  }
  SchemaOptions opt;
  opt.property_ordering = true;
  SchemaResult s = sanitize_schema(*schema, gc->alloc(), opt);
  if (!s.ok) {
    return fail(err, bad_value(field_path(field_path(kAt, "schema"), s.at), s.error));
  }
  if (schema_without_properties(s.schema)) {
    return true;
  }
  if (description && !s.schema.HasMember("description")) {
    s.schema.AddMember("description", str(*description, gc->alloc()), gc->alloc());
  }
  gc->set("responseSchema", std::move(s.schema));
  return true;
}

bool response_format(const Value& req, Config* gc, RequestError* err) {
  const Value* rf = nullptr;
  if (!read_object(req, "response_format", "", &rf, err)) {
    return false;
  }
  if (rf == nullptr) {
    return true;
  }
  std::optional<std::string_view> type;
  if (!only_known(*rf, {"type", "json_schema"}, "response_format", err) ||
      !read_string(*rf, "type", "response_format", &type, err)) {
    return false;
  }
  if (type == "text") {
    gc->set("responseMimeType", "text/plain");
    return true;
  }
  if (type == "json_object") {
    gc->set("responseMimeType", "application/json");
    return true;
  }
  if (type == "json_schema") {
    return json_schema(*rf, gc, err);
  }
  return fail(err, bad_value("response_format.type", "expected text, json_object or json_schema"));
}

struct Budget {
  std::string_view prefix;
  int64_t min;
  int64_t max;
  bool can_stop;
};

// The first entry whose prefix the model name starts with (the more specific first).
constexpr Budget kBudgets[] = {
    {"gemini-2.5-pro", 128, 32768, false},
    {"gemini-2.5-flash-lite", 512, 24576, true},
    {"gemini-2.5-flash", 1, 24576, true},
    {"gemini-2.5", 128, 24576, true},
};

constexpr std::string_view kEfforts[] = {"none", "minimal", "low", "medium",
                                         "high", "xhigh",   "max"};

Value thinking_budget(std::string_view model, std::string_view effort, Alloc& a) {
  const Budget* b = &kBudgets[3];
  for (const Budget& x : kBudgets) {
    if (model.substr(0, x.prefix.size()) == x.prefix) {
      b = &x;
      break;
    }
  }
  int64_t budget = effort == "none"      ? (b->can_stop ? 0 : b->min)
                   : effort == "minimal" ? b->min
                   : effort == "low"     ? 1024
                   : effort == "medium"  ? 8192
                   : effort == "high"    ? 24576
                                         : b->max;
  if (budget != 0) {
    budget = std::clamp(budget, b->min, b->max);
  }
  Value tc(rapidjson::kObjectType);
  tc.AddMember("thinkingBudget", Value(budget), a);
  tc.AddMember("includeThoughts", Value(effort != "none"), a);
  return tc;
}

Value thinking_level(std::string_view effort, Alloc& a) {
  bool low = effort == "none" || effort == "minimal" || effort == "low";
  Value tc(rapidjson::kObjectType);
  tc.AddMember("thinkingLevel", Value(rapidjson::StringRef(low ? "LOW" : "HIGH")), a);
  tc.AddMember("includeThoughts", Value(effort != "none"), a);
  return tc;
}

bool reasoning(const Value& req, std::string_view model, Config* gc, RequestError* err) {
  std::optional<std::string_view> effort;
  if (!read_string(req, "reasoning_effort", "", &effort, err)) {
    return false;
  }
  if (!effort) {
    return true;
  }
  if (std::find(std::begin(kEfforts), std::end(kEfforts), *effort) == std::end(kEfforts)) {
    return fail(err, bad_value("reasoning_effort",
                               "expected none, minimal, low, medium, high, xhigh or max"));
  }
  switch (family_of(model)) {
    case Family::gemini_2_5:
      gc->set("thinkingConfig", thinking_budget(model, *effort, gc->alloc()));
      return true;
    case Family::gemini_3:
      gc->set("thinkingConfig", thinking_level(*effort, gc->alloc()));
      return true;
    case Family::other:
      break;
  }
  if (*effort == "none") {
    return true;
  }
  return fail(err, unsupported("reasoning_effort", "gbd knows no thinking settings for model '" +
                                                       std::string(model) + "'"));
}

bool modalities(const Value& req, Config* gc, RequestError* err) {
  const Value* m = find(req, "modalities");
  if (m == nullptr) {
    return true;
  }
  if (!m->IsArray()) {
    return fail(err, bad_type("modalities", "an array of strings"));
  }
  Value list(rapidjson::kArrayType);
  for (rapidjson::SizeType i = 0; i < m->Size(); ++i) {
    std::string at = index_path("modalities", i);
    const Value& v = (*m)[i];
    if (!v.IsString()) {
      return fail(err, bad_type(at, "a string"));
    }
    if (sv(v) == "audio") {
      return fail(err, unsupported(at, "gbd's translated answers cannot carry audio"));
    }
    if (sv(v) != "text" && sv(v) != "image") {
      return fail(err, bad_value(at, "expected text or image"));
    }
    list.PushBack(Value(rapidjson::StringRef(sv(v) == "text" ? "TEXT" : "IMAGE")), gc->alloc());
  }
  if (!list.Empty()) {
    gc->set("responseModalities", std::move(list));
  }
  return true;
}

bool verbosity(const Value& req, RequestError* err) {
  std::optional<std::string_view> v;
  if (!read_string(req, "verbosity", "", &v, err)) {
    return false;
  }
  if (!v || *v == "medium") {
    return true;
  }
  if (*v == "low" || *v == "high") {
    return fail(err, unsupported("verbosity", "Gemini has no verbosity control"));
  }
  return fail(err, bad_value("verbosity", "expected low, medium or high"));
}

}  // namespace

bool translate_generation(const Value& req, std::string_view model, rapidjson::Document* body,
                          unsigned* n, RequestError* err) {
  Config gc(body->GetAllocator());
  if (!sampling(req, &gc, err) || !lengths(req, &gc, n, err) || !logprobs(req, &gc, err) ||
      !response_format(req, &gc, err) || !reasoning(req, model, &gc, err) ||
      !modalities(req, &gc, err) || !verbosity(req, err)) {
    return false;
  }
  if (!gc.empty()) {
    body->AddMember("generationConfig", gc.take(), body->GetAllocator());
  }
  return true;
}

}  // namespace gb::llm::openai::req
