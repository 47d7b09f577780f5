// Tool call ids that carry Gemini's thought signature and id through OpenAI clients.
#include <catch2/catch.hpp>

#include "llm/openai/tool_id.h"

using gb::llm::openai::make_tool_id;
using gb::llm::openai::parse_tool_id;
using gb::llm::openai::ToolIdParts;

TEST_CASE("tool ids carry the signature and Gemini's id both ways", "[openai-tool-id]") {
  const char* kRandom = "abcdefghijklmnop";
  for (ToolIdParts in : {ToolIdParts{"", ""}, ToolIdParts{"c2lnbmF0dXJl", ""},
                         ToolIdParts{"", "fc-1"}, ToolIdParts{"a+b/cw==", "id_with_ts_inside"},
                         ToolIdParts{std::string(2998, 'Q') + "==", "é"}}) {
    std::string id = make_tool_id(in, kRandom);
    INFO(id);
    CHECK(id.rfind("call_abcdefghijklmnop", 0) == 0);
    CHECK(id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
          std::string::npos);
    ToolIdParts out = parse_tool_id(id);
    CHECK(out.signature == in.signature);
    CHECK(out.gemini_id == in.gemini_id);
  }
}

TEST_CASE("ids gbd did not make carry nothing", "[openai-tool-id]") {
  for (const char* id : {"call_abc", "toolu_01", "call_abcdefghijklmnop_zz", "",
                         "call_abcdefghijklmnop_s00ffAAAA", "call_abcdefghijklmnop_sxyz1AAAA"}) {
    INFO(id);
    ToolIdParts p = parse_tool_id(id);
    CHECK(p.signature.empty());
    CHECK(p.gemini_id.empty());
  }
}

// Found by fuzzing: a forged id section decoding to bytes that are not UTF-8 reached
// the upstream's JSON as functionCall.id.
TEST_CASE("a forged Gemini id that is not UTF-8 is dropped", "[openai-tool-id]") {
  ToolIdParts p = parse_tool_id("call_abcdefghijklmnop_i0002_w");
  CHECK(p.gemini_id.empty());
}
