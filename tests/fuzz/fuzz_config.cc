// The config loader (lib/config) on arbitrary text, as if it were gbd.toml.
//
// load_string must return, never throw: toml++ throws on syntax errors and the loader
// is where that stops. A failure is a list of errors, each with a message and a position
// inside the file, sorted by position; a success is a Config that keeps the promises
// config.h makes (a listener, at least one pool, every pool with usable keys).
//
// keys_file is read from disk like gbd would: relative names resolve against the current
// directory. Run the fuzzer from a scratch directory (make fuzz does).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>

#include "config/config.h"
#include "config/keys_file.h"
#include "fuzz_check.h"

namespace {

const std::string kName = "fuzz.toml";

void check_errors(std::string_view text, const std::vector<gb::config::ConfigError>& errors) {
  FUZZ_CHECK(!errors.empty());
  size_t lines = 1;
  for (char c : text) {
    lines += c == '\n' ? 1 : 0;
  }
  for (size_t i = 0; i < errors.size(); ++i) {
    const auto& e = errors[i];
    FUZZ_CHECK(!e.message.empty());
    FUZZ_CHECK(!e.file.empty());
    FUZZ_CHECK(!e.to_string().empty());
    if (e.file == kName) {
      FUZZ_CHECK(e.line <= lines);
      FUZZ_CHECK((e.line == 0) == (e.column == 0));
    }
    if (i > 0) {
      const auto& p = errors[i - 1];
      auto rank = [](const gb::config::ConfigError& x) {
        return std::make_tuple(x.file != kName, x.file, x.line, x.column);
      };
      FUZZ_CHECK(!(rank(e) < rank(p)));  // sorted by position, this file first
    }
  }
}

bool valid_pool_name(std::string_view s) {
  if (s.empty() || s.size() > 64) {
    return false;
  }
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

void check_config(const gb::config::Config& c) {
  FUZZ_CHECK(c.path == kName);
  FUZZ_CHECK(!c.server.listen.empty());
  FUZZ_CHECK(!c.pools.empty());
  for (const auto& p : c.pools) {
    FUZZ_CHECK(valid_pool_name(p.name));
    FUZZ_CHECK(!p.keys.empty());
    for (const gb::config::KeySpec& k : p.keys) {
      FUZZ_CHECK(gb::config::check_key(k.key) == nullptr);
      FUZZ_CHECK(k.weight >= gb::config::kMinKeyWeight && k.weight <= gb::config::kMaxKeyWeight);
    }
    for (size_t i = 0; i < p.quotas.size(); ++i) {
      const gb::config::Quota& q = p.quotas[i];
      FUZZ_CHECK(!q.model.empty());
      FUZZ_CHECK(q.rpm != 0 || q.tpm != 0 || q.rpd != 0);
      FUZZ_CHECK(i == 0 || p.quotas[i - 1].model < q.model);  // sorted, no repeats
      FUZZ_CHECK(p.quota_for(q.model) == &q);                 // a quota's own name finds it
    }
    FUZZ_CHECK(p.queue_timeout <= std::chrono::minutes(10));
    FUZZ_CHECK(p.queue_max <= 100000);
    FUZZ_CHECK(p.ramp_up <= std::chrono::hours(1));
    FUZZ_CHECK(p.probe_model.size() <= 128);
    FUZZ_CHECK(!p.models.empty());
    FUZZ_CHECK(!p.base_url.empty());
    FUZZ_CHECK(!p.origin.host.empty());
    FUZZ_CHECK(p.cooldown <= p.cooldown_max);
    FUZZ_CHECK(c.find_pool(p.name) != nullptr);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // An exception escaping here ends the process, which libFuzzer reports as a crash.
  gb::config::LoadResult r = gb::config::load_string(text, kName);
  if (const auto* errors = std::get_if<std::vector<gb::config::ConfigError>>(&r)) {
    check_errors(text, *errors);
  } else {
    const auto& c = std::get<std::shared_ptr<const gb::config::Config>>(r);
    FUZZ_CHECK(c != nullptr);
    check_config(*c);
  }
  return 0;
}
