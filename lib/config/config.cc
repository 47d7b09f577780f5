#include "config/config.h"

namespace gb::config {

const char* provider_name(Provider p) {
  switch (p) {
    case Provider::gemini:
      return "gemini";
    case Provider::openai:
      return "openai";
    case Provider::anthropic:
      return "anthropic";
  }
  return "?";
}

const char* strategy_name(Strategy s) {
  switch (s) {
    case Strategy::round_robin:
      return "round_robin";
    case Strategy::least_busy:
      return "least_busy";
    case Strategy::weighted:
      return "weighted";
  }
  return "?";
}

const char* default_base_url(Provider p) {
  switch (p) {
    case Provider::gemini:
      return "https://generativelanguage.googleapis.com";
    case Provider::openai:
      return "https://api.openai.com/v1";
    case Provider::anthropic:
      return "https://api.anthropic.com";
  }
  return "";
}

const char* default_probe_model(Provider p) {
  // Gemini's models.get costs nothing and proves the key works; the other providers'
  // model names change too often for a default, and their models list is free too.
  return p == Provider::gemini ? "gemini-2.5-flash" : "";
}

bool glob_match(std::string_view pattern, std::string_view s) {
  // Greedy match with one backtrack point: the last '*' seen. Linear in practice and
  // never exponential, unlike the recursive version.
  size_t p = 0;
  size_t i = 0;
  size_t star = std::string_view::npos;
  size_t star_i = 0;
  while (i < s.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == s[i])) {
      ++p;
      ++i;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_i = i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++star_i;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

const Pool* Config::pool_for_model(std::string_view model) const {
  for (const Pool& p : pools) {
    for (const std::string& glob : p.models) {
      if (glob_match(glob, model)) {
        return &p;
      }
    }
  }
  return nullptr;
}

const Quota* Pool::quota_for(std::string_view model) const {
  return find_quota(quotas, model);
}

const Quota* find_quota(const std::vector<Quota>& quotas, std::string_view model) {
  const Quota* best = nullptr;
  for (const Quota& q : quotas) {
    if (q.model == model) {
      return &q;
    }
    // quotas is sorted by model, so keeping the first of equally long globs is name order.
    if (glob_match(q.model, model) && (best == nullptr || q.model.size() > best->model.size())) {
      best = &q;
    }
  }
  return best;
}

const Pool* Config::find_pool(std::string_view name) const {
  for (const Pool& p : pools) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

std::string ConfigError::to_string() const {
  if (line == 0) {
    return file + ": " + message;
  }
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

}  // namespace gb::config
