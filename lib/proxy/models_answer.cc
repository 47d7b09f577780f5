// GET /v1/models and /v1/models/{model} over the pools' upstream model lists.
#include <rapidjson/document.h>

#include <set>

#include "base/json_depth.h"
#include "proxy/models_cache.h"
#include "proxy/runtime.h"
#include "proxy/translator.h"

namespace gb::proxy {

using namespace llm::openai;

namespace {

const char* owner_of(const config::Pool& p) {
  return p.provider == config::Provider::gemini ? "google" : p.name.c_str();
}

bool serves(const config::Pool& p, const std::string& id) {
  for (const std::string& g : p.models) {
    if (config::glob_match(g, id)) {
      return true;
    }
  }
  return false;
}

// An OpenAI-compatible upstream's list: data[].id.
std::optional<std::vector<std::string>> openai_ids(std::string_view body) {
  if (!json_depth_within(body, 64)) {
    return std::nullopt;
  }
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("data") || !d["data"].IsArray()) {
    return std::nullopt;
  }
  std::vector<std::string> ids;
  for (const auto& m : d["data"].GetArray()) {
    if (m.IsObject() && m.HasMember("id") && m["id"].IsString()) {
      ids.emplace_back(m["id"].GetString(), m["id"].GetStringLength());
    }
  }
  return ids;
}

bool listed(const config::Pool& p) {
  return p.provider == config::Provider::gemini || p.provider == config::Provider::openai;
}

class ModelsTranslator : public Translator {
 public:
  ModelsTranslator(const config::Pool& pool, ModelsCache& cache,
                   std::shared_ptr<const Snapshot> snap, std::string one)
      : pool_(pool), cache_(cache), snap_(std::move(snap)), one_(std::move(one)) {}
  bool streams() const override { return false; }
  const char* content_type() const override { return "application/json"; }
  int status() const override { return status_; }

  // The upstream could not list its models: the lists of the other pools still answer.
  llm::openai::ClientError error(int status, std::string_view body,
                                 std::string_view retry_after) const override {
    std::optional<ModelsAnswer> a = models_answer(cache_, *snap_, one_, nullptr);
    bool any = a && (a->status == 200 && a->body.find("\"id\"") != std::string::npos);
    if (!any) {
      return Translator::error(status, body, retry_after);
    }
    return llm::openai::ClientError{a->status, a->body, std::nullopt};
  }

  std::optional<std::string> translate(std::string_view body) override {
    std::optional<std::vector<std::string>> ids;
    if (pool_.provider == config::Provider::gemini) {
      ModelsPage page = parse_models_page(body);
      if (page.ok) {
        ids = std::move(page.ids);
      }
    } else {
      ids = openai_ids(body);
    }
    if (!ids) {
      return std::nullopt;
    }
    // Only what this pool would serve: a model another pool's globs claim first is
    // that pool's to list.
    std::erase_if(*ids, [this](const std::string& id) { return !serves(pool_, id); });
    auto now = ModelsCache::Clock::now();
    cache_.put(pool_.name, std::move(*ids), now);
    const config::Pool* stale = nullptr;
    std::optional<ModelsAnswer> a = models_answer(cache_, *snap_, one_, &stale);
    if (!a) {
      // Another pool's list is stale too: this answer shows the pools known so far.
      a = models_answer(cache_, *snap_, one_, nullptr);
    }
    status_ = a->status;
    return a->body;
  }

 private:
  const config::Pool& pool_;
  ModelsCache& cache_;
  std::shared_ptr<const Snapshot> snap_;
  std::string one_;
  int status_ = 200;
};

}  // namespace

std::unique_ptr<Translator> models_translator(const config::Pool& pool, ModelsCache& cache,
                                              std::shared_ptr<const Snapshot> snap,
                                              std::string one_model) {
  return std::make_unique<ModelsTranslator>(pool, cache, std::move(snap), std::move(one_model));
}

// With `stale` null, pools without a fresh list are skipped instead of reported.
std::optional<ModelsAnswer> models_answer(const ModelsCache& cache, const Snapshot& snap,
                                          const std::string& one_model,
                                          const config::Pool** stale) {
  auto now = ModelsCache::Clock::now();
  std::vector<std::pair<std::string, std::string>> models;
  std::set<std::string> seen;
  for (const config::Pool& p : snap.config->pools) {
    if (!listed(p)) {
      continue;
    }
    auto ids = cache.get(p.name, p.models_ttl, now);
    if (!ids) {
      if (stale != nullptr) {
        *stale = &p;
        return std::nullopt;
      }
      continue;
    }
    for (std::string& id : *ids) {
      // A model two pools list belongs to the first that serves it.
      if (snap.config->pool_for_model(id) == &p && seen.insert(id).second) {
        models.emplace_back(std::move(id), owner_of(p));
      }
    }
  }
  if (one_model.empty()) {
    return ModelsAnswer{200, models_list_body(models)};
  }
  for (const auto& [id, owner] : models) {
    if (id == one_model) {
      return ModelsAnswer{200, model_body(id, owner)};
    }
  }
  return ModelsAnswer{404, error_body("The model '" + one_model +
                                          "' does not exist or no pool of this gbd serves it.",
                                      "invalid_request_error", "model", "model_not_found")};
}

}  // namespace gb::proxy
