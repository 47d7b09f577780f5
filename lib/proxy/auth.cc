#include "proxy/auth.h"

#include "base/key_id.h"

namespace gb::proxy {

namespace {
bool presented(const http::Request& req, std::string* cred) {
  if (const std::string* v = req.headers.find("authorization")) {
    std::string_view s = *v;
    if (s.size() > 7 && http::iequals(s.substr(0, 7), "bearer ")) {
      s.remove_prefix(7);
      while (!s.empty() && s.front() == ' ') {
        s.remove_prefix(1);
      }
      *cred = std::string(s);
      return true;
    }
  }
  for (const char* h : {"x-goog-api-key", "x-api-key"}) {
    if (const std::string* v = req.headers.find(h)) {
      *cred = *v;
      return true;
    }
  }
  std::string raw;
  if (http::query_param(req.query(), "key", &raw)) {
    return http::percent_decode(raw, cred);
  }
  return false;
}
}  // namespace

AuthResult authenticate(const http::Request& req, const std::vector<std::string>& tokens,
                        bool allow_anonymous, std::string* token_id) {
  // No tokens configured (only allowed on loopback listeners) means open access; with
  // tokens, a request without a credential passes only when allow_anonymous is set. A
  // credential that is presented must always be right.
  std::string cred;
  bool has_cred = presented(req, &cred) && !cred.empty();
  if (tokens.empty() || (!has_cred && allow_anonymous)) {
    token_id->assign(1, '-');  // not = "-": GCC 12 false -Wrestrict (PR 105329)
    return AuthResult::ok;
  }
  if (!has_cred) {
    return AuthResult::missing;
  }
  // Compare with every token, without stopping at a match, so timing says nothing.
  bool match = false;
  for (const std::string& t : tokens) {
    match |= constant_time_equal(cred, t);
  }
  if (!match) {
    return AuthResult::invalid;
  }
  *token_id = key_id(cred);
  return AuthResult::ok;
}

void strip_client_credentials(http::Headers& headers) {
  headers.remove("authorization");
  headers.remove("x-goog-api-key");
  headers.remove("x-api-key");
}

}  // namespace gb::proxy
