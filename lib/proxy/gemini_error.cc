#include "proxy/gemini_error.h"

#include "http/status.h"

namespace gb::proxy {

const char* google_status(int s) {
  switch (s) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 405:
      return "INVALID_ARGUMENT";
    case 408:
      return "DEADLINE_EXCEEDED";
    case 409:
      return "ABORTED";
    case 413:
      return "INVALID_ARGUMENT";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 431:
      return "INVALID_ARGUMENT";
    case 499:
      return "CANCELLED";
    case 500:
      return "INTERNAL";
    case 501:
      return "UNIMPLEMENTED";
    case 502:
      return "UNAVAILABLE";
    case 503:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    default:
      return s >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

std::string gemini_error_body(int status, std::string_view message) {
  std::string out = "{\"error\":{\"code\":" + std::to_string(status) + ",\"message\":";
  http::append_json_string(out, message);
  out += ",\"status\":\"";
  out += google_status(status);
  out += "\"}}";
  return out;
}

}  // namespace gb::proxy
