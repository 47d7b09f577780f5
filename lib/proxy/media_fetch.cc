#include "proxy/media_fetch.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

#include "http/upstream_pool.h"

namespace gb::proxy {

struct MediaFetch::Dns {
  uv_getaddrinfo_t req;
  MediaFetch* owner;  // null once the fetch no longer waits for it
};

namespace {

std::string url_for_log(const std::string& url) {
  return url.size() > 80 ? url.substr(0, 77) + "..." : url;
}

// Splits an image URL into what parse_origin takes and the request target.
bool split_url(const std::string& url, std::string* base, std::string* target) {
  std::string u = url.substr(0, url.find('#'));
  size_t q = u.find('?');
  std::string query = q == std::string::npos ? "" : u.substr(q);
  u = u.substr(0, q);
  size_t scheme = u.find("://");
  if (scheme == std::string::npos) {
    return false;
  }
  size_t slash = u.find('/', scheme + 3);
  std::string path = slash == std::string::npos ? "/" : u.substr(slash);
  *base = slash == std::string::npos ? u : u.substr(0, slash);
  *target = path + query;
  for (char c : *target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return false;  // would break the request line
    }
  }
  return true;
}

bool in_v4(uint32_t a, uint32_t net, int bits) {
  uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (a & mask) == (net & mask);
}

bool public_v4(uint32_t a) {
  static constexpr struct {
    uint32_t net;
    int bits;
  } kBlocked[] = {
      {0x00000000, 8},  {0x0A000000, 8},  {0x64400000, 10}, {0x7F000000, 8},
      {0xA9FE0000, 16}, {0xAC100000, 12}, {0xC0000000, 24}, {0xC0000200, 24},
      {0xC0A80000, 16}, {0xC6120000, 15}, {0xC6336400, 24}, {0xCB007100, 24},
      {0xE0000000, 4},  {0xF0000000, 4},
  };
  for (const auto& b : kBlocked) {
    if (in_v4(a, b.net, b.bits)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool MediaFetch::public_address(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    uint32_t a = ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr);
    return public_v4(a);
  }
  if (sa->sa_family != AF_INET6) {
    return false;
  }
  const uint8_t* b = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr.s6_addr;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMapped, 12) == 0) {
    return public_v4(uint32_t{b[12]} << 24 | uint32_t{b[13]} << 16 | uint32_t{b[14]} << 8 | b[15]);
  }
  // Only global unicast (2000::/3), and not the documentation range 2001:db8::/32.
  if ((b[0] & 0xE0) != 0x20) {
    return false;
  }
  return !(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8);
}

MediaFetch::MediaFetch(uv::Loop& loop, http::UpstreamPool& upstream,
                       llm::openai::GeminiCall& call, MediaLimits limits, Done done)
    : loop_(loop),
      upstream_(upstream),
      call_(call),
      limits_(std::move(limits)),
      done_(std::move(done)),
      timer_(loop.get()) {}

MediaFetch::~MediaFetch() {
  cancel();
}

void MediaFetch::start() {
  // One deadline and one byte budget for all the images of the request.
  timer_.start(limits_.timeout_ms, [this] {
    fail("the images of the request did not arrive within " + std::to_string(limits_.timeout_ms) +
         " ms (media_timeout)");
  });
  next();
}

void MediaFetch::cancel() {
  finished_ = true;
  timer_.stop();
  if (dns_ != nullptr) {
    dns_->owner = nullptr;  // its callback frees it
    dns_ = nullptr;
  }
  if (conn_ != nullptr) {
    conn_->cancel();
    conn_ = nullptr;
  }
}

void MediaFetch::fail(std::string message) {
  if (finished_) {
    return;
  }
  cancel();
  llm::openai::RequestError e;
  e.status = 400;
  e.param = "messages";
  e.message = std::move(message);
  Done done = std::move(done_);
  done(e);  // may delete this
}

void MediaFetch::next() {
  if (index_ == call_.remote.size()) {
    finished_ = true;
    timer_.stop();
    Done done = std::move(done_);
    done(std::nullopt);
    return;
  }
  const std::string& url = call_.remote[index_].url;
  std::string base;
  auto parsed = split_url(url, &base, &target_) ? parse_origin(base) : Result<Origin>(Error{});
  if (!parsed) {
    fail("image URL " + url_for_log(url) + " is not an http(s) URL gbd can fetch");
    return;
  }
  origin_ = parsed.value();
  mime_.clear();
  bytes_.clear();
  if (limits_.allow_private) {
    request();
    return;
  }
  dns_ = new Dns{{}, this};
  dns_->req.data = dns_;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  int rc = uv_getaddrinfo(
      loop_.get(), &dns_->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
        auto* d = static_cast<Dns*>(req->data);
        if (d->owner != nullptr) {
          d->owner->dns_ = nullptr;
          d->owner->resolved(status, res);
        }
        uv_freeaddrinfo(res);
        delete d;
      },
      origin_.host.c_str(), nullptr, &hints);
  if (rc != 0) {
    delete dns_;
    dns_ = nullptr;
    fail("cannot resolve the host of image URL " + url_for_log(url));
  }
}

void MediaFetch::resolved(int status, addrinfo* res) {
  const std::string& url = call_.remote[index_].url;
  if (status != 0 || res == nullptr) {
    fail("cannot resolve the host of image URL " + url_for_log(url) + ": " + uv_strerror(status));
    return;
  }
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    if (!public_address(a->ai_addr)) {
      fail("image URL " + url_for_log(url) +
           " points to a private, loopback or link-local address, which gbd does not fetch "
           "(media_private)");
      return;
    }
  }
  request();
}

void MediaFetch::request() {
  Error err;
  conn_ = upstream_.acquire(origin_, limits_.ca_file, &err);
  if (conn_ == nullptr) {
    fail("cannot fetch image URL " + url_for_log(call_.remote[index_].url) + ": " + err.context);
    return;
  }
  std::string head = "GET " + target_ + " HTTP/1.1\r\nHost: " + origin_.authority() +
                     "\r\nAccept: image/*\r\nAccept-Encoding: identity\r\n"
                     // Not kept for later: these hosts are the clients' choice.
                     "Connection: close\r\nUser-Agent: gbd/" GB_VERSION "\r\n\r\n";
  http::ClientTimeouts t;
  t.connect_ms = t.response_ms = t.idle_ms = limits_.timeout_ms;
  conn_->send(std::move(head), std::make_shared<const std::string>(), this, t);
}

void MediaFetch::on_response_head(int status, http::Headers headers) {
  const std::string& url = call_.remote[index_].url;
  if (status != 200) {
    fail("image URL " + url_for_log(url) + " answered HTTP " + std::to_string(status) +
         (status >= 300 && status < 400 ? " (redirects are not followed: give the final URL)"
                                        : ""));
    return;
  }
  const std::string* ct = headers.find("content-type");
  std::string type = ct == nullptr ? "" : ct->substr(0, ct->find(';'));
  while (!type.empty() && type.back() == ' ') {
    type.pop_back();
  }
  if (type.rfind("image/", 0) != 0) {
    fail("image URL " + url_for_log(url) + " is not an image (Content-Type " +
         (type.empty() ? std::string("missing") : type) + ")");
    return;
  }
  mime_ = type == "image/jpg" ? "image/jpeg" : type;
}

void MediaFetch::on_response_body(const char* data, size_t n) {
  if (finished_) {
    return;
  }
  if (total_ + bytes_.size() + n > limits_.max_bytes) {
    fail("the images of the request are larger than " + std::to_string(limits_.max_bytes) +
         " bytes in all (media_max)");
    return;
  }
  bytes_.append(data, n);
}

void MediaFetch::on_response_end() {
  conn_ = nullptr;
  if (finished_) {
    return;
  }
  llm::openai::attach_media(call_, index_, mime_, bytes_);
  total_ += bytes_.size();
  bytes_.clear();
  ++index_;
  next();
}

void MediaFetch::on_response_error(const Error& err, bool, bool) {
  conn_ = nullptr;
  fail("cannot fetch image URL " + url_for_log(call_.remote[index_].url) + ": " + err.context +
       " (" + err.name() + ")");
}

}  // namespace gb::proxy
