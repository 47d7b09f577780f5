// Upstream keys: what a valid key looks like, and the keys_file format.
//
// A keys file holds one key a line, optionally followed by its weight: "KEY" or
// "KEY weight=N", separated by blanks. Blank lines are skipped; '#' at the start of a
// line, or after whitespace, starts a comment; whitespace around the line is trimmed
// (so CRLF files work). Anything else after the key is an error naming the line and
// column: it is almost always two keys pasted on one line, or a stray word.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace gb::config {

// nullptr when key is acceptable (non-empty printable ASCII, no spaces), else why
// not, as a predicate to put after a noun: "is empty". It never repeats the key:
// keys and tokens are secrets.
const char* check_key(std::string_view key);

// The range of a key's weight, in keys and in a keys file.
inline constexpr unsigned kMinKeyWeight = 1;
inline constexpr unsigned kMaxKeyWeight = 1000;

struct KeysFile {
  std::vector<KeySpec> keys;        // in file order, duplicates kept
  std::vector<ConfigError> errors;  // file is the keys file, line and column 1-based
  int read_errno = 0;               // nonzero when the file could not be read at all
};

// Parses the text of a keys file; path names the file in errors.
KeysFile parse_keys(std::string_view text, const std::string& path);

// Reads and parses path.
KeysFile read_keys_file(const std::string& path);

// path as is when absolute, else relative to the directory holding config_path.
std::string resolve_path(std::string_view config_path, std::string_view path);

}  // namespace gb::config
