#include "base/error.h"

namespace gb {

const char* errc_name(Errc c) {
  switch (c) {
    case Errc::ok:
      return "ok";
    case Errc::bad_request:
      return "bad_request";
    case Errc::body_too_large:
      return "body_too_large";
    case Errc::headers_too_large:
      return "headers_too_large";
    case Errc::header_timeout:
      return "header_timeout";
    case Errc::unauthorized:
      return "unauthorized";
    case Errc::not_found:
      return "not_found";
    case Errc::method_not_allowed:
      return "method_not_allowed";
    case Errc::client_gone:
      return "client_gone";
    case Errc::dns_failed:
      return "dns_failed";
    case Errc::connect_failed:
      return "connect_failed";
    case Errc::connect_timeout:
      return "connect_timeout";
    case Errc::tls_failed:
      return "tls_failed";
    case Errc::upstream_reset:
      return "upstream_reset";
    case Errc::read_timeout:
      return "read_timeout";
    case Errc::bad_upstream_response:
      return "bad_upstream_response";
    case Errc::upstream_status:
      return "upstream_status";
    case Errc::no_key_available:
      return "no_key_available";
    case Errc::all_keys_cooling:
      return "all_keys_cooling";
    case Errc::no_pool:
      return "no_pool";
    case Errc::unknown_command:
      return "unknown_command";
    case Errc::version_unsupported:
      return "version_unsupported";
    case Errc::permission_denied:
      return "permission_denied";
    case Errc::ambiguous_key:
      return "ambiguous_key";
    case Errc::key_in_config:
      return "key_in_config";
    case Errc::line_too_long:
      return "line_too_long";
    case Errc::too_many_clients:
      return "too_many_clients";
    case Errc::shutting_down:
      return "shutting_down";
    case Errc::config_invalid:
      return "config_invalid";
    case Errc::io_error:
      return "io_error";
    case Errc::internal:
      return "internal";
  }
  return "internal";
}

}  // namespace gb
