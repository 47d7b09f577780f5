// How an upstream API key is shown: never whole. Logs, control replies and the request
// log name a key by its id (first 8 hex digits of its SHA-256) or its mask ("AIza…x9Qk").
#pragma once

#include <string>
#include <string_view>

namespace gb {

// First 8 lowercase hex digits of SHA-256(key). Stable across restarts and reloads,
// so stored key state reattaches to the same key.
std::string key_id(std::string_view key);

// All 64 lowercase hex digits of SHA-256(key): the identity under which key state is
// stored. Ids alone are not enough: among 100 000 keys two 8-digit ids likely collide.
std::string key_hash(std::string_view key);

// "AIza…x9Qk" (first 4, a UTF-8 ellipsis, last 4) for keys of 12 or more bytes;
// "…Qk" (last 2) for keys of 6 to 11 bytes; "…" alone for shorter ones, where two bytes
// would already be a large share of the secret. Never more than 8 bytes of the key.
// Bytes outside printable ASCII are shown as '?' so a mask cannot break a log line.
std::string key_mask(std::string_view key);

// Compares two secrets in time that depends only on their lengths, never on the position
// of the first difference. A length mismatch returns false (and may leak the lengths).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace gb
