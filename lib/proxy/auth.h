// Client authentication: gbd's own tokens, never forwarded upstream.
#pragma once

#include <string>
#include <vector>

#include "http/request.h"

namespace gb::proxy {

enum class AuthResult { ok, missing, invalid };

// Looks for a credential in Authorization: Bearer, x-goog-api-key, x-api-key, then ?key=,
// and compares it with every token in constant time. *token_id gets key_id(token) on ok,
// or "-" for an anonymous request (no tokens configured, or allow_anonymous).
AuthResult authenticate(const http::Request& req, const std::vector<std::string>& tokens,
                        bool allow_anonymous, std::string* token_id);

// Strips every client credential from the request headers (not the query: the upstream
// request is built with query_without(..., "key")).
void strip_client_credentials(http::Headers& headers);

}  // namespace gb::proxy
