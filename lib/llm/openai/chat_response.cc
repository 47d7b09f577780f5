// A whole GenerateContentResponse -> a chat.completion object (WIRE.md §6.4).
//
// One choice per candidate, in Gemini's order, with the candidate's index. The answer's
// parts are split three ways: text (message.content), thoughts (message.reasoning_content,
// the de-facto extension OpenAI-compatible clients read) and function calls
// (message.tool_calls, ids from make_tool_id so the thought signature comes back with the
// next turn). content is null when there is no text and the choice is a tool call or was
// filtered; otherwise it is a string, "" when the model said nothing.
//
// A prompt blocked before any candidate (promptFeedback.blockReason) is one choice with
// content null and finish_reason "content_filter", as OpenAI reports a filtered answer.
// A body with neither candidates nor a block reason is not an answer: ok = false.
#include "llm/openai/chat_response.h"

#include <algorithm>
#include <limits>

#include "llm/openai/response_parts.h"

namespace gb::llm::openai {

using namespace resp;

namespace {

struct Citation {
  int64_t start = 0;
  int64_t end = 0;
  std::string_view url;
  std::string_view title;
};

// Characters (code points) in the first `bytes` bytes of `text`.
// Characters before each byte offset of a text, counted once: citations ask for many.
class CharIndex {
 public:
  explicit CharIndex(std::string_view text) : text_(text) {}
  int64_t at(size_t bytes) {
    if (before_.empty()) {
      before_.resize(text_.size() + 1);
      int64_t n = 0;
      for (size_t i = 0; i < text_.size(); ++i) {
        before_[i] = n;
        n += (static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80 ? 1 : 0;
      }
      before_[text_.size()] = n;
    }
    return before_[std::min(bytes, text_.size())];
  }

 private:
  std::string_view text_;
  std::vector<int64_t> before_;
};

// groundingSupports -> url_citation annotations. Gemini's segment offsets count bytes of
// one part (segment.partIndex); OpenAI's count characters of message.content.
std::vector<Citation> read_citations(const rapidjson::Value& candidate, const CandidateParts& p) {
  std::vector<Citation> out;
  CharIndex chars(p.text);
  const rapidjson::Value* meta = member(candidate, "groundingMetadata");
  const rapidjson::Value* supports = meta != nullptr ? member(*meta, "groundingSupports") : nullptr;
  const rapidjson::Value* chunks = meta != nullptr ? member(*meta, "groundingChunks") : nullptr;
  if (supports == nullptr || !supports->IsArray() || chunks == nullptr || !chunks->IsArray()) {
    return out;
  }
  for (const auto& s : supports->GetArray()) {
    const rapidjson::Value* seg = member(s, "segment");
    const rapidjson::Value* refs = member(s, "groundingChunkIndices");
    if (seg == nullptr || refs == nullptr || !refs->IsArray()) {
      continue;
    }
    size_t part = static_cast<size_t>(count_member(*seg, "partIndex"));
    size_t base = part < p.text_offsets.size() ? p.text_offsets[part] : std::string::npos;
    if (base == std::string::npos) {
      base = 0;
    }
    auto offset = [&](const char* name) {
      uint64_t off = static_cast<uint64_t>(count_member(*seg, name));
      return chars.at(base + std::min<uint64_t>(off, p.text.size()));
    };
    int64_t start = offset("startIndex");
    int64_t end = offset("endIndex");
    for (const auto& r : refs->GetArray()) {
      if (!r.IsUint() || r.GetUint() >= chunks->Size()) {
        continue;
      }
      const rapidjson::Value& chunk = (*chunks)[r.GetUint()];
      const rapidjson::Value* src = member(chunk, "web");
      if (src == nullptr) {
        src = member(chunk, "retrievedContext");
      }
      if (src == nullptr || string_member(*src, "uri").empty()) {
        continue;
      }
      out.push_back({start, end, string_member(*src, "uri"), string_member(*src, "title")});
    }
  }
  return out;
}

void write_citations(JsonWriter& w, const std::vector<Citation>& cites) {
  w.StartArray();
  for (const Citation& c : cites) {
    w.StartObject();
    w.Key("type");
    w.String("url_citation");
    w.Key("url_citation");
    w.StartObject();
    w.Key("start_index");
    w.Int64(c.start);
    w.Key("end_index");
    w.Int64(c.end);
    w.Key("url");
    write_string(w, c.url);
    w.Key("title");
    write_string(w, c.title);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
}

void write_choice(JsonWriter& w, const rapidjson::Value& cand, size_t position,
                  const ResponseOptions& opt) {
  CandidateParts p;
  read_parts(cand, opt.parallel_tool_calls ? std::numeric_limits<size_t>::max() : 1, &p);
  const char* finish =
      p.calls.empty() ? map_finish_reason(string_member(cand, "finishReason")) : "tool_calls";
  std::vector<Citation> cites = read_citations(cand, p);
  bool null_content =
      p.text.empty() && (!p.calls.empty() || std::string_view(finish) == "content_filter");

  w.StartObject();
  w.Key("index");
  w.Int64(candidate_index(cand, position));
  w.Key("message");
  w.StartObject();
  w.Key("role");
  w.String("assistant");
  w.Key("content");
  if (null_content) {
    w.Null();
  } else {
    write_string(w, p.text);
  }
  w.Key("refusal");
  w.Null();
  if (!p.reasoning.empty()) {
    w.Key("reasoning_content");
    write_string(w, p.reasoning);
  }
  if (!p.calls.empty()) {
    w.Key("tool_calls");
    write_tool_calls(w, p.calls, -1);
  }
  if (!cites.empty()) {
    w.Key("annotations");
    write_citations(w, cites);
  }
  w.EndObject();
  w.Key("logprobs");
  write_logprobs(w, cand);
  w.Key("finish_reason");
  w.String(finish);
  w.EndObject();
}

void write_blocked_choice(JsonWriter& w) {
  w.StartObject();
  w.Key("index");
  w.Int(0);
  w.Key("message");
  w.StartObject();
  w.Key("role");
  w.String("assistant");
  w.Key("content");
  w.Null();
  w.Key("refusal");
  w.Null();
  w.EndObject();
  w.Key("logprobs");
  w.Null();
  w.Key("finish_reason");
  w.String("content_filter");
  w.EndObject();
}

// The model to echo: the client's name for it, else what Gemini says it ran.
std::string_view response_model(const rapidjson::Value& doc, const ResponseOptions& opt) {
  if (!opt.model.empty()) {
    return opt.model;
  }
  std::string_view v = string_member(doc, "modelVersion");
  return v.substr(0, 7) == "models/" ? v.substr(7) : v;
}

}  // namespace

ChatResponseResult translate_chat_response(std::string_view gemini_json, const ResponseOptions& opt,
                                           const ResponseIds& ids) {
  ChatResponseResult r;
  rapidjson::Document doc;
  if (!parse_json(gemini_json, &doc) || !doc.IsObject()) {
    r.error = "upstream answer is not a JSON object";
    return r;
  }
  if (member(doc, "error") != nullptr) {
    r.error = "upstream answered 200 with an error object";
    return r;
  }
  const rapidjson::Value* cands = member(doc, "candidates");
  if (cands != nullptr && !cands->IsArray()) {
    r.error = "upstream answer has a candidates member that is not an array";
    return r;
  }
  const rapidjson::Value* feedback = member(doc, "promptFeedback");
  bool blocked = feedback != nullptr && !string_member(*feedback, "blockReason").empty();
  bool any = cands != nullptr && !cands->Empty();
  if (!any && !blocked) {
    r.error = "upstream answer has no candidates and no block reason";
    return r;
  }

  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("id");
  write_string(w, ids.id);
  w.Key("object");
  w.String("chat.completion");
  w.Key("created");
  w.Int64(ids.created);
  w.Key("model");
  write_string(w, response_model(doc, opt));
  w.Key("choices");
  w.StartArray();
  if (any) {
    size_t position = 0;
    for (const auto& cand : cands->GetArray()) {
      write_choice(w, cand, position++, opt);
    }
  } else {
    write_blocked_choice(w);
  }
  w.EndArray();
  w.Key("usage");
  write_usage(w, map_usage(read_usage(doc)));
  w.EndObject();
  r.ok = true;
  r.body.assign(buf.GetString(), buf.GetSize());
  return r;
}

}  // namespace gb::llm::openai
