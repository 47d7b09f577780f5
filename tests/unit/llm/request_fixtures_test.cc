// Golden pairs: every tests/fixtures/openai/request/NAME.openai.json must translate to
// the GenerateContentRequest in NAME.gemini.json (compared as JSON values), and that body
// must pass gb-mock's request validation for the fixture's model.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "llm/openai/chat_request.h"
#include "request_test_util.h"

namespace fs = std::filesystem;
using gb::llm::openai::ChatRequestResult;
using gb::llm::openai::serialize;
using gb::llm::openai::translate_chat_request;

namespace {

const fs::path kDir = fs::path(GB_FIXTURES) / "openai" / "request";
constexpr std::string_view kIn = ".openai.json";
constexpr std::string_view kOut = ".gemini.json";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0;
}

// The fixture names (NAME of NAME.openai.json), sorted.
std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kDir)) {
    std::string f = e.path().filename().string();
    if (ends_with(f, kIn)) {
      names.push_back(f.substr(0, f.size() - kIn.size()));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("every request fixture has its pair and the set covers WIRE 6.1 to 6.3",
          "[openai-request]") {
  std::vector<std::string> names = fixture_names();
  CHECK(names.size() >= 60);
  for (const auto& e : fs::directory_iterator(kDir)) {
    std::string f = e.path().filename().string();
    INFO(f);
    CHECK((ends_with(f, kIn) || ends_with(f, kOut)));
    if (ends_with(f, kOut)) {
      CHECK(fs::exists(kDir / (f.substr(0, f.size() - kOut.size()) + std::string(kIn))));
    }
  }
  // One family of fixtures per row group, by name prefix.
  for (std::string_view prefix : {"sampling",
                                  "max_",
                                  "stop_",
                                  "n_",
                                  "seed",
                                  "penalties",
                                  "logprobs",
                                  "stream_",
                                  "response_format_",
                                  "tools_",
                                  "tool_choice_",
                                  "parallel_tool_calls",
                                  "reasoning_",
                                  "modalities",
                                  "web_search",
                                  "ignored_fields",
                                  "system_",
                                  "user_",
                                  "image_url_",
                                  "input_audio",
                                  "file_data",
                                  "assistant_",
                                  "tool_messages",
                                  "same_role",
                                  "ends_on",
                                  "gemini_3_",
                                  "schema_"}) {
    INFO(prefix);
    CHECK(std::any_of(names.begin(), names.end(),
                      [&](const std::string& n) { return n.rfind(prefix, 0) == 0; }));
  }
}

TEST_CASE("request fixtures translate to their golden Gemini bodies", "[openai-request]") {
  for (const std::string& name : fixture_names()) {
    INFO("fixture " << name);
    std::string in = read_file(kDir / (name + std::string(kIn)));
    rapidjson::Document want = gb::test::parse_json(read_file(kDir / (name + std::string(kOut))));
    ChatRequestResult r = translate_chat_request(in);
    INFO("error: " << r.error.message);
    REQUIRE(r.ok);
    CHECK(gb::test::json_diff(want, r.call.body) == "");
    // What goes on the wire reads back as the same value.
    rapidjson::Document sent = gb::test::parse_json(serialize(r.call));
    CHECK(gb::test::json_diff(want, sent) == "");
    CHECK(gb::test::mock_verdict(sent, r.call.model) == "");
  }
}
