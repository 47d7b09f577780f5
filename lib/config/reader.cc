#include "config/reader.h"

#include "config/suggest.h"

namespace gb::config {

namespace {

std::string quoted(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

std::string join_names(std::span<const std::string_view> names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) {
      out += i + 1 == names.size() ? " or " : ", ";
    }
    out += names[i];
  }
  return out;
}

}  // namespace

void Reader::error(const toml::source_region& where, std::string message) {
  errors_->push_back(ConfigError{file_, where.begin.line, where.begin.column, std::move(message)});
}

void Reader::unknown_key(const toml::key& key, const toml::node& value, std::string_view table,
                         std::span<const std::string_view> known) {
  std::string message;
  if (value.is_table() && table.starts_with('[')) {
    std::string inner(table.substr(1, table.size() - 2));
    message = "unknown table [" + inner + "." + std::string(key.str()) + "]";
  } else {
    message = "unknown key " + quoted(key.str()) + " in " + std::string(table);
  }
  std::string_view near = closest(key.str(), known);
  if (!near.empty()) {
    message += "; did you mean " + quoted(near) + "?";
  }
  error(key.source(), std::move(message));
}

const char* type_phrase(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string Item::what() const {
  return std::string(key) + " in " + std::string(table);
}

void Item::fail(std::string_view message) const {
  r.error(node, what() + " " + std::string(message));
}

bool Item::string(std::string* out, bool allow_empty) const {
  const auto* s = node.as_string();
  if (s == nullptr) {
    fail(std::string("must be a string, not ") + type_phrase(node));
    return false;
  }
  if (!allow_empty && s->get().empty()) {
    fail("must not be empty");
    return false;
  }
  *out = s->get();
  return true;
}

bool Item::boolean(bool* out) const {
  const auto* b = node.as_boolean();
  if (b == nullptr) {
    fail(std::string("must be true or false, not ") + type_phrase(node));
    return false;
  }
  *out = b->get();
  return true;
}

bool Item::uint(unsigned* out, unsigned min, unsigned max) const {
  uint64_t v = 0;
  if (!uint64(&v, min, max)) {
    return false;
  }
  *out = static_cast<unsigned>(v);
  return true;
}

bool Item::uint64(uint64_t* out, uint64_t min, uint64_t max) const {
  const auto* i = node.as_integer();
  if (i == nullptr) {
    fail(std::string("must be an integer, not ") + type_phrase(node));
    return false;
  }
  int64_t v = i->get();
  if (v < 0 || static_cast<uint64_t>(v) < min || static_cast<uint64_t>(v) > max) {
    fail("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", not " +
         std::to_string(v));
    return false;
  }
  *out = static_cast<uint64_t>(v);
  return true;
}

bool Item::duration(Duration* out, bool allow_zero, Duration max) const {
  const auto* s = node.as_string();
  if (s == nullptr) {
    fail(std::string("must be a string with a unit, like \"30s\", not ") + type_phrase(node));
    return false;
  }
  Duration d{};
  if (!parse_duration(s->get(), &d)) {
    fail("has " + quoted(s->get()) +
         ", which is not a duration: write a whole number and a unit (ms, s, m, h or d), "
         "like \"30s\"");
    return false;
  }
  if (!allow_zero && d == Duration::zero()) {
    fail("must be longer than 0s");
    return false;
  }
  if (d > max) {
    fail("must be at most " + format_duration(max) + ", not " + format_duration(d));
    return false;
  }
  *out = d;
  return true;
}

bool Item::size(uint64_t* out, uint64_t min, uint64_t max) const {
  uint64_t v = 0;
  if (const auto* i = node.as_integer()) {
    if (i->get() < 0) {
      fail("must not be negative");
      return false;
    }
    v = static_cast<uint64_t>(i->get());
  } else if (const auto* s = node.as_string()) {
    if (!parse_size(s->get(), &v)) {
      fail("has " + quoted(s->get()) +
           ", which is not a size: write a whole number and a unit (B, KiB, MiB, GiB, KB, MB "
           "or GB), like \"32MiB\"");
      return false;
    }
  } else {
    fail(std::string("must be a size like \"32MiB\", not ") + type_phrase(node));
    return false;
  }
  if (v < min || v > max) {
    fail("must be between " + format_size(min) + " and " + format_size(max) + ", not " +
         format_size(v));
    return false;
  }
  *out = v;
  return true;
}

bool Item::strings(std::vector<Entry>* out) const {
  const auto* a = node.as_array();
  if (a == nullptr) {
    fail(std::string("must be an array of strings, not ") + type_phrase(node));
    return false;
  }
  out->clear();
  for (const toml::node& e : *a) {
    if (const auto* s = e.as_string()) {
      out->push_back(Entry{s->get(), &e});
    } else {
      r.error(e, what() + " must hold only strings, not " + type_phrase(e));
    }
  }
  return true;
}

bool Item::choice(std::span<const std::string_view> names, size_t* index) const {
  std::string value;
  if (!string(&value, true)) {
    return false;
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == value) {
      *index = i;
      return true;
    }
  }
  std::string message = "must be " + join_names(names) + ", not " + quoted(value);
  std::string_view near = closest(value, names);
  if (!near.empty()) {
    message += "; did you mean " + quoted(near) + "?";
  }
  fail(message);
  return false;
}

}  // namespace gb::config
