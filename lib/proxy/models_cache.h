// ModelsCache: the models each pool's upstream lists, for GET /v1/models, kept for the
// pool's models_ttl so that a client listing models does not cost an upstream call each
// time. Thread-safe; shared by the workers (it lives in the Runtime).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gb::proxy {

class ModelsCache {
 public:
  using Clock = std::chrono::steady_clock;

  // The ids a pool's upstream listed, if fetched less than `ttl` ago.
  std::optional<std::vector<std::string>> get(const std::string& pool, Clock::duration ttl,
                                              Clock::time_point now) const;
  void put(const std::string& pool, std::vector<std::string> ids, Clock::time_point now);

 private:
  struct Entry {
    Clock::time_point fetched;
    std::vector<std::string> ids;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace gb::proxy
