// Reading TOML tables into config structs, one table of fields per section.
//
// A section is described by a table of Field entries: a key name and a function that
// reads that key's node into the struct. read_fields walks a TOML table against it,
// so the list of known keys (for "unknown key ... did you mean") and the readers can
// never disagree. Every problem is reported to the Reader and reading goes on, so one
// pass finds every error in the file.
#pragma once

#include <toml++/toml.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace gb::config {

class Reader {
 public:
  Reader(std::string file, std::vector<ConfigError>* errors)
      : file_(std::move(file)), errors_(errors) {}

  const std::string& file() const { return file_; }
  void error(const toml::source_region& where, std::string message);
  void error(const toml::node& at, std::string message) { error(at.source(), std::move(message)); }
  // An error without a position in this file (whole-file problems, other files).
  void error(ConfigError e) { errors_->push_back(std::move(e)); }

  // Reports a key that no Field knows, suggesting the closest known one.
  // table is the label used in messages: "[limits]" or "[pool.gemini]", or a phrase
  // for a table that has no header of its own ("an entry of keys in [pool.gemini]").
  void unknown_key(const toml::key& key, const toml::node& value, std::string_view table,
                   std::span<const std::string_view> known);

 private:
  std::string file_;
  std::vector<ConfigError>* errors_;
};

// "a string", "an integer", ...: for "must be X, not Y" messages.
const char* type_phrase(const toml::node& n);

// One string of a TOML array, with its node so errors can point at the element.
struct Entry {
  std::string value;
  const toml::node* node;
};

// One key's value being read. The typed readers report what is wrong (naming the key
// and the table) and return false, leaving *out untouched.
struct Item {
  Reader& r;
  const toml::node& node;
  std::string_view key;
  std::string_view table;

  std::string what() const;                   // "max_body in [limits]"
  void fail(std::string_view message) const;  // reports "<what> <message>" at the value

  bool string(std::string* out, bool allow_empty = false) const;
  bool boolean(bool* out) const;
  bool uint(unsigned* out, unsigned min, unsigned max) const;
  bool uint64(uint64_t* out, uint64_t min, uint64_t max) const;
  // A duration up to max; "0s" only when allow_zero.
  bool duration(Duration* out, bool allow_zero = false, Duration max = Duration::max()) const;
  bool size(uint64_t* out, uint64_t min, uint64_t max) const;
  // An array of strings (possibly empty); an element of another type is reported at
  // the element and skipped.
  bool strings(std::vector<Entry>* out) const;
  // A string that must be one of names; reports the valid names and a suggestion.
  bool choice(std::span<const std::string_view> names, size_t* index) const;
};

template <typename T>
struct Field {
  std::string_view name;
  void (*read)(const Item& item, T& out);
};

// Returns false when t has a key that no field knows (reported already).
template <typename T, size_t N>
bool read_fields(Reader& r, const toml::table& t, std::string_view table,
                 const Field<T> (&fields)[N], T* out) {
  bool all_known = true;
  std::string_view names[N];
  for (size_t i = 0; i < N; ++i) {
    names[i] = fields[i].name;
  }
  for (auto&& [key, node] : t) {
    const Field<T>* field = nullptr;
    for (const Field<T>& f : fields) {
      if (f.name == key.str()) {
        field = &f;
      }
    }
    if (field == nullptr) {
      r.unknown_key(key, node, table, names);
      all_known = false;
      continue;
    }
    field->read(Item{r, node, key.str(), table}, *out);
  }
  return all_known;
}

}  // namespace gb::config
