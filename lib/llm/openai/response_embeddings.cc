// batchEmbedContents answer -> OpenAI embeddings list (WIRE.md §1.8, §4.7).
//
// Gemini answers {"embeddings": [{"values": [...]}, ...]} in request order and counts no
// tokens; the usage comes from the request side's estimate (EmbeddingsCall). A number of
// embeddings other than the number of inputs is not an answer to this request: ok = false.
#include <cstring>

#include "llm/openai/chat_response.h"
#include "llm/openai/response_parts.h"

namespace gb::llm::openai {

using namespace resp;

namespace {

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Standard base64, padded, of the values as little-endian IEEE 754 float32 (what OpenAI's
// encoding_format "base64" holds), whatever the host's byte order.
std::string float32_base64(const rapidjson::Value& values) {
  std::string bytes;
  bytes.reserve(values.Size() * 4);
  for (const auto& v : values.GetArray()) {
    float f = static_cast<float>(v.GetDouble());
    uint32_t u = 0;
    std::memcpy(&u, &f, sizeof u);
    for (int i = 0; i < 4; ++i) {
      bytes += static_cast<char>((u >> (8 * i)) & 0xFF);
    }
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    size_t left = bytes.size() - i;
    if (left > 1) {
      n |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    }
    if (left > 2) {
      n |= static_cast<unsigned char>(bytes[i + 2]);
    }
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += left > 1 ? kBase64[(n >> 6) & 63] : '=';
    out += left > 2 ? kBase64[n & 63] : '=';
  }
  return out;
}

// The values array of one ContentEmbedding, or nullptr when it is not a list of numbers.
const rapidjson::Value* embedding_values(const rapidjson::Value& e) {
  const rapidjson::Value* values = member(e, "values");
  if (values == nullptr || !values->IsArray()) {
    return nullptr;
  }
  for (const auto& v : values->GetArray()) {
    if (!v.IsNumber()) {
      return nullptr;
    }
  }
  return values;
}

}  // namespace

ChatResponseResult translate_embeddings_response(std::string_view gemini_json,
                                                 const EmbeddingsCall& call) {
  ChatResponseResult r;
  rapidjson::Document doc;
  if (!parse_json(gemini_json, &doc) || !doc.IsObject()) {
    r.error = "upstream answer is not a JSON object";
    return r;
  }
  const rapidjson::Value* list = member(doc, "embeddings");
  if (list == nullptr || !list->IsArray()) {
    r.error = "upstream answer has no embeddings array";
    return r;
  }
  if (list->Size() != call.inputs) {
    r.error = "upstream answered " + std::to_string(list->Size()) + " embeddings for " +
              std::to_string(call.inputs) + " inputs";
    return r;
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("object");
  w.String("list");
  w.Key("data");
  w.StartArray();
  int64_t index = 0;
  for (const auto& e : list->GetArray()) {
    const rapidjson::Value* values = embedding_values(e);
    if (values == nullptr) {
      r.error = "upstream embedding " + std::to_string(index) + " is not a list of numbers";
      return r;
    }
    w.StartObject();
    w.Key("object");
    w.String("embedding");
    w.Key("index");
    w.Int64(index++);
    w.Key("embedding");
    if (call.base64) {
      write_string(w, float32_base64(*values));
    } else {
      w.StartArray();
      for (const auto& v : values->GetArray()) {
        v.Accept(w);  // a number: the value as Gemini wrote it, no recursion
      }
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("model");
  write_string(w, call.model);
  w.Key("usage");
  w.StartObject();
  w.Key("prompt_tokens");
  w.Int64(call.prompt_tokens);
  w.Key("total_tokens");
  w.Int64(call.prompt_tokens);
  w.EndObject();
  w.EndObject();
  r.ok = true;
  r.body.assign(buf.GetString(), buf.GetSize());
  return r;
}

}  // namespace gb::llm::openai
