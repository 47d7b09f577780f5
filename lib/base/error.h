// Error and Result: how every fallible operation on the data path reports failure.
// The code names are a contract: the same words appear in logs, control replies and
// the DIAGNOSTICS section of gbd(8).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace gb {

enum class Side { client, upstream, internal };

enum class Errc {
  ok,
  // client side
  bad_request,
  body_too_large,
  headers_too_large,
  header_timeout,
  unauthorized,
  not_found,
  method_not_allowed,
  client_gone,
  // upstream side
  dns_failed,
  connect_failed,
  connect_timeout,
  tls_failed,
  upstream_reset,
  read_timeout,
  bad_upstream_response,
  upstream_status,
  // pool
  no_key_available,
  all_keys_cooling,
  no_pool,
  // control socket (gbctl)
  unknown_command,
  version_unsupported,
  permission_denied,
  ambiguous_key,
  key_in_config,
  line_too_long,
  too_many_clients,
  shutting_down,
  // internal and startup
  config_invalid,
  io_error,
  internal,
};

const char* errc_name(Errc c);

struct Error {
  Errc code = Errc::internal;
  Side side = Side::internal;
  int uv_errno = 0;     // libuv error (negative), 0 if none
  int http_status = 0;  // status this error maps to, 0 if none
  std::string context;  // what failed, for a person

  static Error make(Errc c, Side s, std::string ctx, int status = 0) {
    Error e;
    e.code = c;
    e.side = s;
    e.http_status = status;
    e.context = std::move(ctx);
    return e;
  }
  const char* name() const { return errc_name(code); }
};

// Result<T>: a value or an Error. Small on purpose; no exceptions on the data path.
template <typename T>
class Result {
 public:
  Result(T v) : v_(std::move(v)) {}
  Result(Error e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace gb
