// translate_embeddings_request (chat_request.h): OpenAI /v1/embeddings -> Gemini
// batchEmbedContents (WIRE.md §1.8, §4.7). One Gemini request per input, in order, each
// naming "models/<model>" as Gemini wants it to match the path.
//
//   input             a string, or an array of strings -> one request each; token arrays
//                     (arrays of integers) are refused: Gemini embeds text only
//   dimensions        -> outputDimensionality
//   encoding_format   float (default) or base64: the answer's encoding (EmbeddingsCall)
//   user              ignored: an end-user id for OpenAI's abuse monitoring
//
// prompt_tokens is an estimate, since Gemini's answer has no counts: ceil(bytes / 4) per
// input, the usual rule of thumb for English text (and gb-mock's rule).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <string>

#include "llm/openai/chat_request.h"
#include "llm/openai/request_common.h"

namespace gb::llm::openai {

namespace {

using namespace req;

// OpenAI's own bounds.
constexpr size_t kMaxInputs = 2048;
constexpr size_t kMaxBody = 20 * 1024 * 1024;

bool is_token_array(const Value& v) {
  return v.IsArray() && !v.Empty() && (v[0].IsNumber() || v[0].IsArray());
}

bool inputs(const Value& req, std::vector<std::string_view>* out, RequestError* err) {
  const Value* input = find(req, "input");
  if (input == nullptr) {
    return fail(err, missing("input"));
  }
  if (input->IsString()) {
    out->push_back(sv(*input));
  } else if (!input->IsArray()) {
    return fail(err, bad_type("input", "a string or an array of strings"));
  } else if (is_token_array(*input)) {
    return fail(err, unsupported("input", "token arrays: Gemini embeds text only"));
  } else {
    if (input->Empty()) {
      return fail(err, bad_value("input", "expected at least one input"));
    }
    if (input->Size() > kMaxInputs) {
      return fail(err, bad_value("input", "at most 2048 inputs per request"));
    }
    for (rapidjson::SizeType i = 0; i < input->Size(); ++i) {
      if (!(*input)[i].IsString()) {
        return fail(err, bad_type(index_path("input", i), "a string"));
      }
      out->push_back(sv((*input)[i]));
    }
  }
  for (size_t i = 0; i < out->size(); ++i) {
    if ((*out)[i].empty()) {
      return fail(err, bad_value(input->IsString() ? "input" : index_path("input", i),
                                 "an input must not be empty"));
    }
  }
  return true;
}

bool translate(std::string_view json, EmbeddingsCall* call, RequestError* err) {
  if (json.size() > kMaxBody) {
    return fail(err, too_large("", "the body is over 20 MiB"));
  }
  rapidjson::Document doc;
  std::string as_named;
  std::vector<std::string_view> texts;
  std::optional<std::string_view> format;
  std::optional<int64_t> dimensions;
  std::optional<std::string_view> user;
  if (!parse_body(json, &doc, err) ||
      !only_known(doc, {"model", "input", "encoding_format", "dimensions", "user"}, "", err) ||
      !read_model(doc, &as_named, &call->model, err) || !inputs(doc, &texts, err) ||
      !read_string(doc, "encoding_format", "", &format, err) ||
      !read_int(doc, "dimensions", "", 1, 1 << 20, &dimensions, err) ||
      !read_string(doc, "user", "", &user, err)) {
    return false;
  }
  if (format && *format != "float" && *format != "base64") {
    return fail(err, bad_value("encoding_format", "expected float or base64"));
  }
  call->base64 = format == "base64";
  std::string model = "models/" + call->model;
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("requests");
  w.StartArray();
  for (std::string_view text : texts) {
    w.StartObject();
    w.Key("model");
    w.String(model.data(), static_cast<rapidjson::SizeType>(model.size()));
    w.Key("content");
    w.StartObject();
    w.Key("parts");
    w.StartArray();
    w.StartObject();
    w.Key("text");
    w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    w.EndObject();
    w.EndArray();
    w.EndObject();
    if (dimensions) {
      w.Key("outputDimensionality");
      w.Int64(*dimensions);
    }
    w.EndObject();
    call->prompt_tokens += static_cast<int64_t>((text.size() + 3) / 4);
  }
  w.EndArray();
  w.EndObject();
  call->body.assign(sb.GetString(), sb.GetSize());
  call->inputs = texts.size();
  return true;
}

}  // namespace

EmbeddingsRequestResult translate_embeddings_request(std::string_view json) {
  EmbeddingsRequestResult r;
  r.ok = translate(json, &r.call, &r.error);
  if (!r.ok) {
    r.call = EmbeddingsCall{};
  }
  return r;
}

}  // namespace gb::llm::openai
