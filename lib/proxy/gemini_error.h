// Errors gbd produces itself, in Gemini's format:
//   {"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED"}}
#pragma once

#include <string>
#include <string_view>

namespace gb::proxy {

// google.rpc.Code name that Google uses for an HTTP status.
const char* google_status(int http_status);
std::string gemini_error_body(int http_status, std::string_view message);

}  // namespace gb::proxy
