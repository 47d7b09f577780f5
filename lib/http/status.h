// HTTP status reason phrases and the plain JSON error body used when no route format applies.
#pragma once

#include <string>
#include <string_view>

namespace gb::http {

const char* status_reason(int status);
// {"error":{"code":N,"message":"..."}}
std::string default_error_body(int status, std::string_view message);
// Appends s to out as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view s);

}  // namespace gb::http
