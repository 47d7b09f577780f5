#include "llm/openai/response_parts.h"

#include <cmath>
#include <limits>
#include <utility>

#include "llm/openai/tool_id.h"

namespace gb::llm::openai::resp {

namespace {

// Deepest nesting of `v`, walked with an explicit stack; stops counting past `limit`.
bool depth_within(const rapidjson::Value& root, size_t limit) {
  std::vector<std::pair<const rapidjson::Value*, size_t>> stack{{&root, 1}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (depth > limit) {
      return false;
    }
    if (v->IsObject()) {
      for (const auto& m : v->GetObject()) {
        if (m.value.IsObject() || m.value.IsArray()) {
          stack.emplace_back(&m.value, depth + 1);
        }
      }
    } else if (v->IsArray()) {
      for (const auto& e : v->GetArray()) {
        if (e.IsObject() || e.IsArray()) {
          stack.emplace_back(&e, depth + 1);
        }
      }
    }
  }
  return true;
}

int64_t details_count(const rapidjson::Value& usage, const char* list, std::string_view modality) {
  const rapidjson::Value* arr = member(usage, list);
  if (arr == nullptr || !arr->IsArray()) {
    return 0;
  }
  int64_t n = 0;
  for (const auto& d : arr->GetArray()) {
    if (d.IsObject() && string_member(d, "modality") == modality) {
      n += count_member(d, "tokenCount");
    }
  }
  return n;
}

std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

std::string_view trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Code execution has no OpenAI field: it is shown in the text as Markdown fences, the
// code tagged with its language and the result with "output".
void render_code(const rapidjson::Value& part, std::string* text) {
  if (const rapidjson::Value* code = member(part, "executableCode")) {
    std::string_view lang = string_member(*code, "language");
    *text += "```";
    *text += lang.empty() || lang == "LANGUAGE_UNSPECIFIED" ? "" : lowercase(lang);
    *text += '\n';
    *text += trim_newline(string_member(*code, "code"));
    *text += "\n```\n";
  }
  if (const rapidjson::Value* result = member(part, "codeExecutionResult")) {
    *text += "```output\n";
    *text += trim_newline(string_member(*result, "output"));
    *text += "\n```\n";
  }
}

ToolCall read_call(const rapidjson::Value& part, const rapidjson::Value& call) {
  ToolIdParts id;
  id.signature = std::string(string_member(part, "thoughtSignature"));
  id.gemini_id = std::string(string_member(call, "id"));
  ToolCall out;
  out.id = make_tool_id(id, random_suffix());
  out.name = std::string(string_member(call, "name"));
  const rapidjson::Value* args = member(call, "args");
  out.arguments = args == nullptr || args->IsNull() ? "{}" : compact(*args);
  return out;
}

void write_token_bytes(JsonWriter& w, std::string_view token) {
  w.StartArray();
  for (unsigned char c : token) {
    w.Uint(c);
  }
  w.EndArray();
}

// One {token, logprob, bytes} from a Gemini {token, tokenId, logProbability}.
void write_token_logprob(JsonWriter& w, const rapidjson::Value& c) {
  std::string_view token = string_member(c, "token");
  write_key(w, "token");
  write_string(w, token);
  write_key(w, "logprob");
  const rapidjson::Value* lp = member(c, "logProbability");
  w.Double(lp != nullptr && lp->IsNumber() ? lp->GetDouble() : 0.0);
  write_key(w, "bytes");
  write_token_bytes(w, token);
}

}  // namespace

bool parse_json(std::string_view json, rapidjson::Document* doc) {
  doc->Parse<rapidjson::kParseIterativeFlag>(json.data(),
                                                                                  json.size());
  return !doc->HasParseError() && depth_within(*doc, kMaxJsonDepth);
}

const rapidjson::Value* member(const rapidjson::Value& obj, const char* name) {
  if (!obj.IsObject()) {
    return nullptr;
  }
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string_view string_member(const rapidjson::Value& obj, const char* name) {
  const rapidjson::Value* v = member(obj, name);
  if (v == nullptr || !v->IsString()) {
    return {};
  }
  return {v->GetString(), v->GetStringLength()};
}

int64_t count_member(const rapidjson::Value& obj, const char* name) {
  const rapidjson::Value* v = member(obj, name);
  if (v == nullptr) {
    return 0;
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (v->IsInt64()) {
    return v->GetInt64() > 0 ? v->GetInt64() : 0;
  }
  if (v->IsUint64()) {
    return kMax;  // above INT64_MAX, or IsInt64 would have held
  }
  if (v->IsDouble()) {
    double d = v->GetDouble();
    if (!(d >= 0) || d != std::floor(d)) {
      return 0;
    }
    return d < 9.2e18 ? static_cast<int64_t>(d) : kMax;
  }
  if (v->IsString()) {
    std::string_view s(v->GetString(), v->GetStringLength());
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string_view::npos) {
      return 0;
    }
    int64_t n = 0;
    for (char c : s) {
      n = n * 10 + (c - '0');
    }
    return n;
  }
  return 0;
}

void write_string(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_key(JsonWriter& w, std::string_view s) {
  w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

GeminiUsage read_usage(const rapidjson::Value& response) {
  GeminiUsage u;
  const rapidjson::Value* m = member(response, "usageMetadata");
  if (m == nullptr || !m->IsObject()) {
    return u;
  }
  u.prompt = count_member(*m, "promptTokenCount");
  u.candidates = count_member(*m, "candidatesTokenCount");
  u.thoughts = count_member(*m, "thoughtsTokenCount");
  u.cached = count_member(*m, "cachedContentTokenCount");
  u.tool_use = count_member(*m, "toolUsePromptTokenCount");
  u.total = count_member(*m, "totalTokenCount");
  u.prompt_audio = details_count(*m, "promptTokensDetails", "AUDIO");
  u.candidates_audio = details_count(*m, "candidatesTokensDetails", "AUDIO");
  return u;
}

OpenAiUsage map_usage(const GeminiUsage& u) {
  // Counts are at most INT64_MAX each; sums saturate rather than overflow.
  auto add = [](int64_t a, int64_t b) {
    return a > std::numeric_limits<int64_t>::max() - b ? std::numeric_limits<int64_t>::max()
                                                       : a + b;
  };
  OpenAiUsage o;
  o.prompt = add(u.prompt, u.tool_use);
  bool thoughts_included = u.thoughts > 0 && add(o.prompt, u.candidates) == u.total;
  o.completion = thoughts_included ? u.candidates : add(u.candidates, u.thoughts);
  o.total = u.total > 0 ? u.total : add(o.prompt, o.completion);
  o.reasoning = u.thoughts;
  o.cached = u.cached;
  o.prompt_audio = u.prompt_audio;
  o.completion_audio = u.candidates_audio;
  return o;
}

void write_usage(JsonWriter& w, const OpenAiUsage& u) {
  w.StartObject();
  w.Key("prompt_tokens");
  w.Int64(u.prompt);
  w.Key("completion_tokens");
  w.Int64(u.completion);
  w.Key("total_tokens");
  w.Int64(u.total);
  w.Key("prompt_tokens_details");
  w.StartObject();
  w.Key("cached_tokens");
  w.Int64(u.cached);
  w.Key("audio_tokens");
  w.Int64(u.prompt_audio);
  w.EndObject();
  w.Key("completion_tokens_details");
  w.StartObject();
  w.Key("reasoning_tokens");
  w.Int64(u.reasoning);
  w.Key("audio_tokens");
  w.Int64(u.completion_audio);
  w.Key("accepted_prediction_tokens");
  w.Int64(0);
  w.Key("rejected_prediction_tokens");
  w.Int64(0);
  w.EndObject();
  w.EndObject();
}

// LANGUAGE and OTHER map to content_filter, as litellm does: Gemini stopped the answer
// for a reason of its own, not because it was complete, and "stop" would tell the client
// the answer is whole. The malformed/unexpected tool-call reasons have no OpenAI
// equivalent and end the turn: stop.
const char* map_finish_reason(std::string_view r) {
  if (r == "MAX_TOKENS") {
    return "length";
  }
  static constexpr std::string_view kFiltered[] = {
      "SAFETY",   "RECITATION", "BLOCKLIST",    "PROHIBITED_CONTENT",       "SPII",
      "LANGUAGE", "OTHER",      "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION",
  };
  for (std::string_view f : kFiltered) {
    if (r == f) {
      return "content_filter";
    }
  }
  return "stop";
}

void read_parts(const rapidjson::Value& candidate, size_t max_calls, CandidateParts* out) {
  const rapidjson::Value* content = member(candidate, "content");
  const rapidjson::Value* parts = content != nullptr ? member(*content, "parts") : nullptr;
  if (parts == nullptr || !parts->IsArray()) {
    return;
  }
  for (const auto& part : parts->GetArray()) {
    out->text_offsets.push_back(std::string::npos);
    if (!part.IsObject()) {
      continue;
    }
    if (const rapidjson::Value* call = member(part, "functionCall")) {
      if (out->calls.size() < max_calls) {
        out->calls.push_back(read_call(part, *call));
      } else {
        ++out->calls_dropped;
      }
      continue;
    }
    // inlineData, fileData and parts of unknown kinds have no place in a chat message.
    const rapidjson::Value* thought = member(part, "thought");
    bool is_thought = thought != nullptr && thought->IsBool() && thought->GetBool();
    if (is_thought) {
      out->reasoning += string_member(part, "text");
      continue;
    }
    out->text_offsets.back() = out->text.size();
    out->text += string_member(part, "text");
    render_code(part, &out->text);
  }
}

int64_t candidate_index(const rapidjson::Value& candidate, size_t position) {
  const rapidjson::Value* v = member(candidate, "index");
  if (v != nullptr && v->IsInt64() && v->GetInt64() >= 0) {
    return v->GetInt64();
  }
  return static_cast<int64_t>(position);
}

void write_logprobs(JsonWriter& w, const rapidjson::Value& candidate) {
  const rapidjson::Value* result = member(candidate, "logprobsResult");
  const rapidjson::Value* chosen =
      result != nullptr ? member(*result, "chosenCandidates") : nullptr;
  if (chosen == nullptr || !chosen->IsArray()) {
    w.Null();
    return;
  }
  const rapidjson::Value* top = member(*result, "topCandidates");
  w.StartObject();
  w.Key("content");
  w.StartArray();
  rapidjson::SizeType i = 0;
  for (const auto& c : chosen->GetArray()) {
    w.StartObject();
    write_token_logprob(w, c);
    w.Key("top_logprobs");
    w.StartArray();
    if (top != nullptr && top->IsArray() && i < top->Size()) {
      const rapidjson::Value* alts = member((*top)[i], "candidates");
      if (alts != nullptr && alts->IsArray()) {
        for (const auto& alt : alts->GetArray()) {
          w.StartObject();
          write_token_logprob(w, alt);
          w.EndObject();
        }
      }
    }
    w.EndArray();
    w.EndObject();
    ++i;
  }
  w.EndArray();
  w.Key("refusal");
  w.Null();
  w.EndObject();
}

void write_tool_calls(JsonWriter& w, const std::vector<ToolCall>& calls, int64_t first_index) {
  w.StartArray();
  int64_t index = first_index;
  for (const ToolCall& c : calls) {
    w.StartObject();
    if (first_index >= 0) {
      w.Key("index");
      w.Int64(index++);
    }
    w.Key("id");
    write_string(w, c.id);
    w.Key("type");
    w.String("function");
    w.Key("function");
    w.StartObject();
    w.Key("name");
    write_string(w, c.name);
    w.Key("arguments");
    write_string(w, c.arguments);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace gb::llm::openai::resp
