// MediaFetch: downloads the http(s) images an OpenAI request names by URL, one after
// another, before the request goes to a Gemini pool (which takes images inline).
//
// The downloads are bounded together: media_max bytes in all, within media_timeout, no
// redirects, a 200 with an image/* Content-Type only, connections not kept. Unless
// media_private is set, a host that is or resolves to a private, loopback, link-local
// or otherwise non-public address is refused, so a client cannot make gbd reach what
// only gbd's host can see. (The address is checked, then the upstream pool resolves
// the name again: a name whose answers change between the two can slip through; the
// man page says so.)
//
// Runs on one loop. done() is called once, with nullopt on success (every medium is in
// the call) or the refusal to answer with; never after cancel().
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/url.h"
#include "http/client_conn.h"
#include "llm/openai/chat_request.h"
#include "uv/loop.h"

namespace gb::http {
class UpstreamPool;
}

namespace gb::proxy {

struct MediaLimits {
  uint64_t max_bytes = 20 << 20;
  uint64_t timeout_ms = 10000;
  bool allow_private = false;
  std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
};

class MediaFetch : public http::ResponseSink {
 public:
  using Done = std::function<void(std::optional<llm::openai::RequestError>)>;

  MediaFetch(uv::Loop& loop, http::UpstreamPool& upstream, llm::openai::GeminiCall& call,
             MediaLimits limits, Done done);
  ~MediaFetch() override;
  MediaFetch(const MediaFetch&) = delete;
  MediaFetch& operator=(const MediaFetch&) = delete;

  void start();
  void cancel();

  // Whether an address may be fetched without media_private: public unicast only.
  static bool public_address(const sockaddr* sa);

 private:
  struct Dns;
  void next();
  void resolved(int status, addrinfo* res);
  void request();
  void fail(std::string message);

  void on_response_head(int status, http::Headers headers) override;
  void on_response_body(const char* data, size_t n) override;
  void on_response_end() override;
  void on_response_error(const Error& err, bool response_started, bool stale) override;

  uv::Loop& loop_;
  http::UpstreamPool& upstream_;
  llm::openai::GeminiCall& call_;
  MediaLimits limits_;
  Done done_;
  size_t index_ = 0;
  Origin origin_;
  std::string target_;  // path and query
  std::string mime_;
  std::string bytes_;
  size_t total_ = 0;  // bytes of the images already in the call
  http::ClientConn* conn_ = nullptr;
  Dns* dns_ = nullptr;
  uv::Timer timer_;
  bool finished_ = false;
};

}  // namespace gb::proxy
