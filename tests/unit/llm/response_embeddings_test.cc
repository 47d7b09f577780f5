// batchEmbedContents answers -> OpenAI embeddings lists (WIRE.md §1.8, §4.7).
#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "llm/openai/chat_response.h"

using namespace gb::llm::openai;

namespace {

EmbeddingsCall call(size_t inputs, bool base64 = false) {
  EmbeddingsCall c;
  c.model = "gemini-embedding-001";
  c.inputs = inputs;
  c.prompt_tokens = 7;
  c.base64 = base64;
  return c;
}

const char* kTwo = R"({"embeddings": [{"values": [0.0123, -0.0456, 1]}, {"values": [0.5, 0]}]})";

std::string decode_base64(std::string_view s) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') {
      break;
    }
    acc = (acc << 6) | static_cast<uint32_t>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("embeddings as floats", "[openai-response]") {
  ChatResponseResult r = translate_embeddings_response(kTwo, call(2));
  INFO(r.error);
  REQUIRE(r.ok);
  CHECK(r.body ==
        R"({"object":"list","data":[)"
        R"({"object":"embedding","index":0,"embedding":[0.0123,-0.0456,1]},)"
        R"({"object":"embedding","index":1,"embedding":[0.5,0]}],)"
        R"("model":"gemini-embedding-001","usage":{"prompt_tokens":7,"total_tokens":7}})");
}

TEST_CASE("embeddings as base64 of little-endian float32", "[openai-response]") {
  ChatResponseResult r = translate_embeddings_response(kTwo, call(2, true));
  REQUIRE(r.ok);
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  std::string first = d["data"][0]["embedding"].GetString();
  std::string bytes = decode_base64(first);
  REQUIRE(bytes.size() == 12);
  const float want[] = {0.0123f, -0.0456f, 1.0f};
  for (int i = 0; i < 3; ++i) {
    uint32_t u = 0;
    for (int b = 0; b < 4; ++b) {
      u |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[4 * i + b])) << (8 * b);
    }
    float f = 0;
    std::memcpy(&f, &u, sizeof f);
    CHECK(f == want[i]);
  }
  // 1.0f is 00 00 80 3F little-endian; 0.5f is 00 00 00 3F.
  CHECK(std::string(d["data"][1]["embedding"].GetString()) == "AAAAPwAAAAA=");
}

TEST_CASE("embedding answers that do not fit the request are refused", "[openai-response]") {
  CHECK_FALSE(translate_embeddings_response(kTwo, call(3)).ok);
  CHECK_FALSE(translate_embeddings_response(kTwo, call(1)).ok);
  for (const char* b :
       {"", "[]", "{}", R"({"embeddings": {}})",
        R"({"embeddings": [{"values": ["x"]}, {"values": [1]}]})",
        R"({"embeddings": [{}, {"values": [1]}]})", R"({"embedding": {"values": [1]}})"}) {
    INFO(b);
    ChatResponseResult r = translate_embeddings_response(b, call(2));
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.error.empty());
  }
}
