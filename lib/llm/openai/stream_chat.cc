// Gemini SSE -> OpenAI chat.completion.chunk events (WIRE.md §6.5), incrementally.
//
// sse::Reader cuts the upstream bytes into events whatever the split; each event is a
// whole GenerateContentResponse holding an increment of each candidate, and is turned into
// chunks at once, so nothing of the answer is kept: only the event being read (at most
// kMaxEventBytes) and, per choice, a few flags and counters.
//
// Per candidate k of an event, in order:
//   - one chunk with the increment: text -> delta.content, thoughts ->
//     delta.reasoning_content, each functionCall -> one delta.tool_calls entry whose index
//     counts the choice's calls across the stream (Gemini sends a call whole, so its
//     arguments go out whole). role "assistant" rides on the first chunk of each choice.
//     An empty increment (the final parts-less content, {"text": ""}) makes no chunk.
//   - when finishReason appears: {"delta": {}, "finish_reason": ...}, "tool_calls" if the
//     choice made any call. What a finished choice sends later is dropped.
// A prompt blocked before any candidate finishes choice 0 with "content_filter".
//
// At the clean end of the upstream: the usage chunk (include_usage) and [DONE], if every
// choice seen has finished; else an error event (a truncated answer must not look whole).
// An error event from Gemini, an event that is not JSON, one over the size limit, or
// fail(): an OpenAI error event, and nothing after it, not even [DONE].
#include <limits>
#include <vector>

#include "base/units.h"
#include "llm/openai/chat_response.h"
#include "llm/openai/error_map.h"
#include "llm/openai/response_parts.h"
#include "sse/reader.h"

namespace gb::llm::openai {

using namespace resp;

namespace {

// The largest upstream event accepted: far above any real one (an event holds one
// increment of text, or one function call), low enough to bound a stream's memory.
constexpr size_t kMaxEventBytes = 16 * kMiB;
// Gemini allows candidateCount up to 8; more distinct indexes than this is not an answer.
constexpr size_t kMaxChoices = 64;

struct Choice {
  int64_t index = 0;
  bool started = false;   // its first chunk (with the role) went out
  bool finished = false;  // its finish chunk went out
  int64_t calls = 0;      // tool calls sent so far
};

}  // namespace

struct ChatStream::State {
  ResponseOptions opt;
  ResponseIds ids;
  sse::Reader reader{kMaxEventBytes};
  std::vector<Choice> choices;
  GeminiUsage usage;
  std::string model;           // echoed on every chunk
  std::string* out = nullptr;  // where the current call's events go
  bool done = false;           // [DONE] went out
  bool failed = false;         // an error event went out
  bool at_end = false;         // finish() is flushing the last, unterminated event

  void on_event(std::string_view data);
  void on_candidate(const rapidjson::Value& cand, size_t position);
  void on_blocked();
  Choice* choice(int64_t index);

  void begin_chunk(JsonWriter& w) const;
  void end_chunk(JsonWriter& w) const;
  void finish_chunk(Choice& c, const char* reason);
  void usage_chunk();
  void emit(const rapidjson::StringBuffer& buf);
  void error(std::string_view message, std::string_view type, std::string_view code);
};

void ChatStream::State::emit(const rapidjson::StringBuffer& buf) {
  out->append("data: ");
  out->append(buf.GetString(), buf.GetSize());
  out->append("\n\n");
}

void ChatStream::State::error(std::string_view message, std::string_view type,
                              std::string_view code) {
  out->append("data: ");
  out->append(error_body(message, type, "", code));
  out->append("\n\n");
  failed = true;
}

void ChatStream::State::begin_chunk(JsonWriter& w) const {
  w.StartObject();
  w.Key("id");
  write_string(w, ids.id);
  w.Key("object");
  w.String("chat.completion.chunk");
  w.Key("created");
  w.Int64(ids.created);
  w.Key("model");
  write_string(w, model);
  w.Key("choices");
}

void ChatStream::State::end_chunk(JsonWriter& w) const {
  if (opt.include_usage) {
    w.Key("usage");
    w.Null();
  }
  w.EndObject();
}

Choice* ChatStream::State::choice(int64_t index) {
  for (Choice& c : choices) {
    if (c.index == index) {
      return &c;
    }
  }
  if (choices.size() >= kMaxChoices) {
    return nullptr;
  }
  choices.push_back(Choice{index});
  return &choices.back();
}

void ChatStream::State::finish_chunk(Choice& c, const char* reason) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  begin_chunk(w);
  w.StartArray();
  w.StartObject();
  w.Key("index");
  w.Int64(c.index);
  w.Key("delta");
  w.StartObject();
  if (!c.started) {
    w.Key("role");
    w.String("assistant");
  }
  w.EndObject();
  w.Key("logprobs");
  w.Null();
  w.Key("finish_reason");
  w.String(reason);
  w.EndObject();
  w.EndArray();
  end_chunk(w);
  emit(buf);
  c.started = true;
  c.finished = true;
}

void ChatStream::State::usage_chunk() {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  begin_chunk(w);
  w.StartArray();
  w.EndArray();
  w.Key("usage");
  write_usage(w, map_usage(usage));
  w.EndObject();
  emit(buf);
}

void ChatStream::State::on_candidate(const rapidjson::Value& cand, size_t position) {
  Choice* c = choice(candidate_index(cand, position));
  if (c == nullptr) {
    error("upstream stream has more candidates than gbd accepts", "server_error", "");
    return;
  }
  if (c->finished) {
    return;
  }
  CandidateParts p;
  size_t max_calls = opt.parallel_tool_calls ? std::numeric_limits<size_t>::max()
                     : c->calls > 0          ? 0
                                             : 1;
  read_parts(cand, max_calls, &p);
  if (!p.text.empty() || !p.reasoning.empty() || !p.calls.empty()) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    begin_chunk(w);
    w.StartArray();
    w.StartObject();
    w.Key("index");
    w.Int64(c->index);
    w.Key("delta");
    w.StartObject();
    if (!c->started) {
      w.Key("role");
      w.String("assistant");
    }
    if (!p.text.empty()) {
      w.Key("content");
      write_string(w, p.text);
    }
    if (!p.reasoning.empty()) {
      w.Key("reasoning_content");
      write_string(w, p.reasoning);
    }
    if (!p.calls.empty()) {
      w.Key("tool_calls");
      write_tool_calls(w, p.calls, c->calls);
    }
    w.EndObject();
    w.Key("logprobs");
    write_logprobs(w, cand);
    w.Key("finish_reason");
    w.Null();
    w.EndObject();
    w.EndArray();
    end_chunk(w);
    emit(buf);
    c->started = true;
    c->calls += static_cast<int64_t>(p.calls.size());
  }
  std::string_view reason = string_member(cand, "finishReason");
  if (!reason.empty()) {
    finish_chunk(*c, c->calls > 0 ? "tool_calls" : map_finish_reason(reason));
  }
}

void ChatStream::State::on_blocked() {
  Choice* c = choice(0);
  if (c != nullptr && !c->finished) {
    finish_chunk(*c, "content_filter");
  }
}

void ChatStream::State::on_event(std::string_view data) {
  if (done || failed) {
    return;
  }
  if (data.find_first_not_of(" \t\r\n") == std::string_view::npos || data == "[DONE]") {
    return;  // not Gemini's, but harmless: nothing to translate
  }
  rapidjson::Document doc;
  if (!parse_json(data, &doc) || !doc.IsObject()) {
    error(at_end ? "upstream stream ended in the middle of an event"
                 : "upstream stream sent an event that is not a JSON object",
          "server_error", "");
    return;
  }
  if (const rapidjson::Value* e = member(doc, "error")) {
    const rapidjson::Value* code = member(*e, "code");
    int status = code != nullptr && code->IsInt() ? code->GetInt() : 500;
    MappedError m = map_gemini_error(status, e->IsObject() ? e : nullptr,
                                     "upstream reported an error in the middle of the stream");
    error(m.message, m.type, m.code);
    return;
  }
  if (model.empty()) {
    std::string_view v = string_member(doc, "modelVersion");
    model = v.substr(0, 7) == "models/" ? v.substr(7) : v;
  }
  if (member(doc, "usageMetadata") != nullptr) {
    usage = read_usage(doc);
  }
  const rapidjson::Value* cands = member(doc, "candidates");
  if (cands == nullptr || !cands->IsArray() || cands->Empty()) {
    const rapidjson::Value* feedback = member(doc, "promptFeedback");
    if (feedback != nullptr && !string_member(*feedback, "blockReason").empty()) {
      on_blocked();
    }
    return;
  }
  size_t position = 0;
  for (const auto& cand : cands->GetArray()) {
    if (failed) {
      return;
    }
    on_candidate(cand, position++);
  }
}

ChatStream::ChatStream(ResponseOptions opt, ResponseIds ids) : s_(new State) {
  s_->opt = std::move(opt);
  s_->ids = std::move(ids);
  s_->model = s_->opt.model;
}

ChatStream::~ChatStream() {
  delete s_;
}

std::string ChatStream::feed(std::string_view bytes) {
  std::string out;
  if (s_->done || s_->failed) {
    return out;
  }
  s_->out = &out;
  sse::Status st = s_->reader.feed(bytes, [this](const sse::Event& e) { s_->on_event(e.data); });
  if (st != sse::Status::ok && !s_->done && !s_->failed) {
    s_->error("upstream stream sent an event larger than 16 MiB", "server_error", "");
  }
  s_->out = nullptr;
  return out;
}

std::string ChatStream::finish() {
  std::string out;
  if (s_->done || s_->failed) {
    return out;
  }
  s_->out = &out;
  // An event complete but for its blank line still counts: the upstream closed cleanly.
  if (s_->reader.pending()) {
    s_->at_end = true;
    s_->reader.feed("\n\n", [this](const sse::Event& e) { s_->on_event(e.data); });
  }
  if (!s_->failed) {
    bool whole = !s_->choices.empty();
    for (const Choice& c : s_->choices) {
      whole = whole && c.finished;
    }
    if (!whole) {
      s_->error("upstream stream ended before the answer was complete", "server_error", "");
    } else {
      if (s_->opt.include_usage) {
        s_->usage_chunk();
      }
      out.append("data: [DONE]\n\n");
      s_->done = true;
    }
  }
  s_->out = nullptr;
  return out;
}

std::string ChatStream::fail(std::string_view message) {
  std::string out;
  if (s_->done || s_->failed) {
    return out;
  }
  s_->out = &out;
  s_->error(message, "server_error", "");
  s_->out = nullptr;
  return out;
}

bool ChatStream::failed() const {
  return s_->failed;
}

int64_t ChatStream::prompt_tokens() const {
  return map_usage(s_->usage).prompt;
}

int64_t ChatStream::completion_tokens() const {
  return map_usage(s_->usage).completion;
}

}  // namespace gb::llm::openai
