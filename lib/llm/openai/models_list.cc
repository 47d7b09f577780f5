// Gemini models.list pages -> model ids, and OpenAI's /v1/models bodies (WIRE.md §1.3, §4.6).
//
// Every model of the page is listed, embedding-only ones included: /v1/models also names
// the models /v1/embeddings serves. Which models a route offers is the caller's choice.
#include "llm/openai/chat_response.h"
#include "llm/openai/response_parts.h"

namespace gb::llm::openai {

using namespace resp;

namespace {

void write_model(JsonWriter& w, std::string_view id, std::string_view owned_by) {
  w.StartObject();
  w.Key("id");
  write_string(w, id);
  w.Key("object");
  w.String("model");
  w.Key("created");
  w.Int(0);  // Gemini says nothing of when a model was made
  w.Key("owned_by");
  write_string(w, owned_by);
  w.EndObject();
}

}  // namespace

ModelsPage parse_models_page(std::string_view gemini_json) {
  ModelsPage page;
  rapidjson::Document doc;
  if (!parse_json(gemini_json, &doc) || !doc.IsObject() || member(doc, "error") != nullptr) {
    return page;
  }
  // The last page of an empty list is {}: no "models" at all.
  if (const rapidjson::Value* models = member(doc, "models")) {
    if (!models->IsArray()) {
      return page;
    }
    for (const auto& m : models->GetArray()) {
      std::string_view name = string_member(m, "name");
      if (name.substr(0, 7) == "models/") {
        name.remove_prefix(7);
      }
      if (!name.empty()) {
        page.ids.emplace_back(name);
      }
    }
  }
  page.next_page_token = std::string(string_member(doc, "nextPageToken"));
  page.ok = true;
  return page;
}

std::string models_list_body(const std::vector<std::pair<std::string, std::string>>& models) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("object");
  w.String("list");
  w.Key("data");
  w.StartArray();
  for (const auto& [id, owner] : models) {
    write_model(w, id, owner);
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string model_body(std::string_view id, std::string_view owned_by) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  write_model(w, id, owned_by);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace gb::llm::openai
