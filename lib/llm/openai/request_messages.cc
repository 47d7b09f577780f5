#include "llm/openai/request_messages.h"

#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "base/json_depth.h"
#include "llm/openai/request_parts.h"
#include "llm/openai/tool_id.h"

namespace gb::llm::openai::req {

namespace {

constexpr std::string_view kUser = "user";
constexpr std::string_view kModel = "model";

bool has_part(const Value& parts, const char* field) {
  for (const Value& p : parts.GetArray()) {
    if (p.HasMember(field)) {
      return true;
    }
  }
  return false;
}

size_t count_parts(const Value& parts, const char* field) {
  size_t n = 0;
  for (const Value& p : parts.GetArray()) {
    n += p.HasMember(field) ? 1 : 0;
  }
  return n;
}

Value text_part(std::string_view text, Alloc& a) {
  Value p(rapidjson::kObjectType);
  p.AddMember("text", str(text, a), a);
  return p;
}

// Reads a JSON object given as text (tool call arguments, tool results) into *out; false
// when the text is no JSON object. Guarded like the body: the text is the client's and may
// nest without bound.
bool parse_object(std::string_view text, Alloc& a, Value* out) {
  if (!json_depth_within(text, kMaxDepth)) {
    return false;
  }
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (d.HasParseError() || !d.IsObject()) {
    return false;
  }
  out->CopyFrom(d, a);
  return true;
}

// The contents list, merging runs of one role; remembers which message began each content
// so that refusals can name it.
class Contents {
 public:
  explicit Contents(Alloc& a) : a_(a), list_(rapidjson::kArrayType) {}

  // The content of `role` that message `message` adds to: the last one if it has that
  // role, else a new one.
  Value& parts_for(std::string_view role, size_t message) {
    if (list_.Empty() || roles_.back() != role) {
      Value c(rapidjson::kObjectType);
      c.AddMember("role", Value(rapidjson::StringRef(role.data(), role.size())), a_);
      c.AddMember("parts", Value(rapidjson::kArrayType), a_);
      list_.PushBack(std::move(c), a_);
      roles_.push_back(role);
      first_message_.push_back(message);
    }
    return list_[list_.Size() - 1]["parts"];
  }
  void add(std::string_view role, size_t message, Value part) {
    parts_for(role, message).PushBack(std::move(part), a_);
    ++parts_;
  }
  // Where the part added last sits.
  std::pair<size_t, size_t> last() const {
    const Value& c = list_[list_.Size() - 1];
    return {list_.Size() - 1, c["parts"].Size() - 1};
  }

  size_t size() const { return list_.Size(); }
  size_t parts() const { return parts_; }
  std::string_view role(size_t i) const { return roles_[i]; }
  size_t first_message(size_t i) const { return first_message_[i]; }
  Value& parts_of(size_t i) { return list_[static_cast<rapidjson::SizeType>(i)]["parts"]; }
  Value take() { return std::move(list_); }

 private:
  Alloc& a_;
  Value list_;
  std::vector<std::string_view> roles_;
  std::vector<size_t> first_message_;
  size_t parts_ = 0;
};

class Translator {
 public:
  Translator(std::string_view model, Alloc& a, std::vector<RemoteMedia>* remote, RequestError* err)
      : family_(family_of(model)),
        a_(a),
        remote_(remote),
        err_(err),
        system_(rapidjson::kArrayType),
        contents_(a) {}

  bool message(const Value& m, size_t i) {
    std::string at = index_path("messages", i);
    if (!m.IsObject()) {
      return fail(err_, bad_type(at, "an object"));
    }
    std::optional<std::string_view> role;
    if (!read_string(m, "role", at, &role, err_)) {
      return false;
    }
    if (!role) {
      return fail(err_, missing(field_path(at, "role")));
    }
    bool ok = false;
    if (*role == "system" || *role == "developer") {
      ok = system(m, at);
    } else if (*role == "user") {
      ok = user(m, i, at);
    } else if (*role == "assistant") {
      ok = assistant(m, i, at);
    } else if (*role == "tool") {
      ok = tool(m, i, at);
    } else if (*role == "function") {
      return fail(err_, unsupported(field_path(at, "role"),
                                    "the deprecated function role; use tools and tool messages"));
    } else {
      return fail(err_, bad_value(field_path(at, "role"),
                                  "'" + std::string(*role) +
                                      "'; roles are system, developer, user, assistant and tool"));
    }
    if (ok && contents_.parts() > kMaxParts) {
      return fail(err_, too_large("messages", "more than " + std::to_string(kMaxParts) +
                                                  " content parts in all"));
    }
    return ok;
  }

  bool finish(size_t messages, rapidjson::Document* body) {
    if (contents_.size() == 0) {
      contents_.parts_for(kUser, messages);
    }
    for (size_t c = 0; c < contents_.size(); ++c) {
      Value& parts = contents_.parts_of(c);
      if (contents_.role(c) == kUser && !has_part(parts, "text") &&
          !has_part(parts, "functionResponse")) {
        parts.PushBack(text_part(" ", a_), a_);
      }
    }
    if (!answers_match() || !end_on_user(messages)) {
      return false;
    }
    if (family_ == Family::gemini_3) {
      sign_calls();
    }
    body->AddMember("contents", contents_.take(), a_);
    if (!system_.Empty()) {
      Value si(rapidjson::kObjectType);
      si.AddMember("parts", std::move(system_), a_);
      body->AddMember("systemInstruction", std::move(si), a_);
    }
    return true;
  }

 private:
  bool system(const Value& m, const std::string& at) {
    if (!only_known(m, {"role", "content", "name"}, at, err_)) {
      return false;
    }
    const Value* content = find(m, "content");
    if (content == nullptr) {
      return fail(err_, missing(field_path(at, "content")));
    }
    std::string text;
    if (!text_content(*content, field_path(at, "content"), false, &text, err_)) {
      return false;
    }
    if (!text.empty()) {
      system_.PushBack(text_part(text, a_), a_);
    }
    return true;
  }

  bool user(const Value& m, size_t i, const std::string& at) {
    if (!only_known(m, {"role", "content", "name"}, at, err_)) {
      return false;
    }
    std::string content_at = field_path(at, "content");
    const Value* content = find(m, "content");
    if (content == nullptr) {
      return fail(err_, missing(content_at));
    }
    contents_.parts_for(kUser, i);  // even an empty message is a user turn
    if (content->IsString()) {
      if (content->GetStringLength() > 0) {
        contents_.add(kUser, i, text_part(sv(*content), a_));
      }
      return true;
    }
    if (!content->IsArray()) {
      return fail(err_, bad_type(content_at, "a string or an array of content parts"));
    }
    for (rapidjson::SizeType j = 0; j < content->Size(); ++j) {
      Value part;
      std::string url;
      if (!user_part((*content)[j], index_path(content_at, j), family_, a_, &part, &url, err_)) {
        return false;
      }
      if (part.IsNull()) {
        continue;
      }
      contents_.add(kUser, i, std::move(part));
      if (!url.empty()) {
        if (remote_->size() >= kMaxRemoteMedia) {
          return fail(err_, too_large(index_path(content_at, j),
                                      "more than " + std::to_string(kMaxRemoteMedia) +
                                          " images given by http(s) URL"));
        }
        auto [c, p] = contents_.last();
        remote_->push_back({std::move(url), c, p});
      }
    }
    return true;
  }

  bool assistant(const Value& m, size_t i, const std::string& at) {
    if (!only_known(m,
                    {"role", "content", "name", "tool_calls", "refusal", "reasoning_content",
                     "function_call", "audio"},
                    at, err_)) {
      return false;
    }
    if (find(m, "function_call") != nullptr) {
      return fail(err_, unsupported(field_path(at, "function_call"),
                                    "the deprecated function calls; use tool_calls"));
    }
    if (find(m, "audio") != nullptr) {
      return fail(err_, unsupported(field_path(at, "audio"),
                                    "Gemini cannot be given back an earlier audio answer"));
    }
    std::string text;
    if (const Value* content = find(m, "content")) {
      if (!text_content(*content, field_path(at, "content"), true, &text, err_)) {
        return false;
      }
    }
    std::optional<std::string_view> refusal;
    if (!read_string(m, "refusal", at, &refusal, err_)) {
      return false;
    }
    if (refusal) {
      text += *refusal;
    }
    if (!text.empty()) {
      contents_.add(kModel, i, text_part(text, a_));
    }
    const Value* calls = find(m, "tool_calls");
    if (calls == nullptr) {
      return true;
    }
    std::string calls_at = field_path(at, "tool_calls");
    if (!calls->IsArray()) {
      return fail(err_, bad_type(calls_at, "an array"));
    }
    for (rapidjson::SizeType j = 0; j < calls->Size(); ++j) {
      if (!tool_call((*calls)[j], i, index_path(calls_at, j))) {
        return false;
      }
    }
    return true;
  }

  // One entry of an assistant message's tool_calls, as OpenAI spells it.
  struct ToolCall {
    std::string_view id;
    std::string_view name;
    std::optional<std::string_view> arguments;
  };

  bool read_tool_call(const Value& call, const std::string& at, ToolCall* out) {
    if (!call.IsObject()) {
      return fail(err_, bad_type(at, "an object"));
    }
    std::optional<std::string_view> type;
    std::optional<std::string_view> id;
    const Value* fn = nullptr;
    if (!read_string(call, "type", at, &type, err_)) {
      return false;
    }
    if (type && *type != "function") {
      return fail(err_, unsupported(field_path(at, "type"), "only function tools exist on Gemini"));
    }
    if (!only_known(call, {"id", "type", "function"}, at, err_) ||
        !read_string(call, "id", at, &id, err_) || !read_object(call, "function", at, &fn, err_)) {
      return false;
    }
    if (!id || id->empty()) {
      return fail(err_, missing(field_path(at, "id")));
    }
    std::string fn_at = field_path(at, "function");
    if (fn == nullptr) {
      return fail(err_, missing(fn_at));
    }
    std::optional<std::string_view> name;
    if (!only_known(*fn, {"name", "arguments"}, fn_at, err_) ||
        !read_string(*fn, "name", fn_at, &name, err_) ||
        !read_string(*fn, "arguments", fn_at, &out->arguments, err_)) {
      return false;
    }
    if (!name || name->empty()) {
      return fail(err_, missing(field_path(fn_at, "name")));
    }
    out->id = *id;
    out->name = *name;
    return true;
  }

  bool tool_call(const Value& call, size_t i, const std::string& at) {
    ToolCall tc;
    if (!read_tool_call(call, at, &tc)) {
      return false;
    }
    Value args(rapidjson::kObjectType);
    if (tc.arguments && !parse_object(*tc.arguments, a_, &args)) {
      args.SetObject();  // §6.2 step 3: arguments that are no JSON object replay as {}
    }
    ToolIdParts carried = parse_tool_id(tc.id);
    Value fc(rapidjson::kObjectType);
    fc.AddMember("name", str(tc.name, a_), a_);
    fc.AddMember("args", std::move(args), a_);
    if (!carried.gemini_id.empty()) {
      fc.AddMember("id", str(carried.gemini_id, a_), a_);
    }
    Value part(rapidjson::kObjectType);
    part.AddMember("functionCall", std::move(fc), a_);
    if (!carried.signature.empty()) {
      part.AddMember("thoughtSignature", str(carried.signature, a_), a_);
    }
    contents_.add(kModel, i, std::move(part));
    calls_[std::string(tc.id)] = {std::string(tc.name), std::move(carried.gemini_id)};
    return true;
  }

  bool tool(const Value& m, size_t i, const std::string& at) {
    std::optional<std::string_view> id;
    if (!only_known(m, {"role", "content", "tool_call_id", "name"}, at, err_) ||
        !read_string(m, "tool_call_id", at, &id, err_)) {
      return false;
    }
    std::string id_at = field_path(at, "tool_call_id");
    if (!id) {
      return fail(err_, missing(id_at));
    }
    const Value* content = find(m, "content");
    if (content == nullptr) {
      return fail(err_, missing(field_path(at, "content")));
    }
    std::string text;
    if (!text_content(*content, field_path(at, "content"), false, &text, err_)) {
      return false;
    }
    // The latest call with this id: ids are unique in practice, and the newest is the one
    // a tool message answers.
    auto call = calls_.find(std::string(*id));
    if (call == calls_.end()) {
      return fail(
          err_, bad_value(id_at, "no earlier assistant tool call has the id '" + std::string(*id) +
                                     "' (Gemini needs the function's name)"));
    }
    Value response(rapidjson::kObjectType);
    if (!parse_object(text, a_, &response)) {
      response.SetObject();
      response.AddMember("output", str(text, a_), a_);
    }
    Value fr(rapidjson::kObjectType);
    fr.AddMember("name", str(call->second.name, a_), a_);
    fr.AddMember("response", std::move(response), a_);
    if (!call->second.gemini_id.empty()) {
      fr.AddMember("id", str(call->second.gemini_id, a_), a_);
    }
    Value part(rapidjson::kObjectType);
    part.AddMember("functionResponse", std::move(fr), a_);
    contents_.add(kUser, i, std::move(part));
    return true;
  }

  // Gemini: the function responses answering a model turn are as many as its calls.
  bool answers_match() {
    for (size_t c = 0; c + 1 < contents_.size(); ++c) {
      size_t calls = count_parts(contents_.parts_of(c), "functionCall");
      size_t answers = count_parts(contents_.parts_of(c + 1), "functionResponse");
      if (calls > 0 && answers > 0 && calls != answers) {
        std::string first = index_path("messages", contents_.first_message(c + 1));
        return fail(err_, bad_value(first, std::to_string(answers) +
                                               " tool message(s) answer the assistant turn at " +
                                               index_path("messages", contents_.first_message(c)) +
                                               ", which made " + std::to_string(calls) +
                                               " tool call(s); Gemini needs one answer per call"));
      }
    }
    return true;
  }

  bool end_on_user(size_t messages) {
    size_t last = contents_.size() - 1;
    if (contents_.role(last) != kModel) {
      return true;
    }
    if (has_part(contents_.parts_of(last), "functionCall")) {
      return fail(err_, bad_value(index_path("messages", messages - 1),
                                  "the conversation ends with tool calls that no tool message "
                                  "answers"));
    }
    contents_.add(kUser, messages, text_part(" ", a_));
    return true;
  }

  void sign_calls() {
    for (size_t c = 0; c < contents_.size(); ++c) {
      if (contents_.role(c) != kModel) {
        continue;
      }
      for (Value& p : contents_.parts_of(c).GetArray()) {
        if (!p.HasMember("functionCall")) {
          continue;
        }
        if (!p.HasMember("thoughtSignature")) {
          p.AddMember("thoughtSignature",
                      Value(rapidjson::StringRef(kSkipSignature.data(), kSkipSignature.size())),
                      a_);
        }
        break;
      }
    }
  }

  struct Call {
    std::string name;
    std::string gemini_id;
  };

  Family family_;
  Alloc& a_;
  std::vector<RemoteMedia>* remote_;
  RequestError* err_;
  Value system_;
  Contents contents_;
  std::unordered_map<std::string, Call> calls_;
};

}  // namespace

bool translate_messages(const Value& messages, std::string_view model, rapidjson::Document* body,
                        std::vector<RemoteMedia>* remote, RequestError* err) {
  if (!messages.IsArray()) {
    return fail(err, bad_type("messages", "an array"));
  }
  if (messages.Empty()) {
    return fail(err, bad_value("messages", "expected an array with at least one message"));
  }
  if (messages.Size() > kMaxMessages) {
    return fail(err,
                too_large("messages", "more than " + std::to_string(kMaxMessages) + " messages"));
  }
  Translator t(model, body->GetAllocator(), remote, err);
  for (rapidjson::SizeType i = 0; i < messages.Size(); ++i) {
    if (!t.message(messages[i], i)) {
      return false;
    }
  }
  return t.finish(messages.Size(), body);
}

}  // namespace gb::llm::openai::req
