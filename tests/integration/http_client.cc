// HttpClient: a blocking HTTP/1.1 client over a raw socket, parsing responses with llhttp.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cerrno>

#include "harness.h"

namespace gbt {

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool same_header_name(std::string_view a, std::string_view b) {
  return lowercase(a) == lowercase(b);
}

std::string Response::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (same_header_name(n, name)) {
      return v;
    }
  }
  return {};
}

bool Response::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return same_header_name(h.first, name); });
}

std::string http_request(std::string_view method, std::string_view target, const Headers& headers,
                         std::string_view body) {
  std::string out = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n";
  out += "Host: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) {
    out += name + ": " + value + "\r\n";
  }
  if (!body.empty() || method == "POST") {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

HttpClient::HttpClient(uint16_t port, Ms timeout) : timeout_(timeout) {
  llhttp_settings_init(&settings_);
  settings_.on_header_field = on_header_field;
  settings_.on_header_value = on_header_value;
  settings_.on_headers_complete = on_headers_complete;
  settings_.on_body = on_body;
  settings_.on_message_complete = on_message_complete;
  llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
  parser_.data = this;

  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    close();
    eof_ = true;
    return;
  }
  pollfd p{fd_, POLLOUT, 0};
  int err = 0;
  socklen_t len = sizeof err;
  if (poll(&p, 1, static_cast<int>(timeout_.count())) != 1 ||
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    close();
    eof_ = err != 0;  // refused or reset at once: the peer closed it
  }
}

HttpClient::~HttpClient() {
  close();
}

void HttpClient::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool HttpClient::send(std::string_view bytes) { return fd_ >= 0 && send_all(fd_, bytes, timeout_); }

bool send_all(int fd, std::string_view bytes, Ms timeout) {
  auto deadline = Clock::now() + timeout;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return false;
    }
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
    pollfd p{fd, POLLOUT, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
      return false;
    }
  }
  return true;
}

void HttpClient::start_message() {
  cur_ = Response{};
  in_value_ = head_done_ = done_ = timed_out_ = false;
  if (!pending_.empty()) {
    std::string data = std::move(pending_);
    pending_.clear();
    parse(data.data(), data.size());
  }
}

bool HttpClient::fill(size_t max, Clock::time_point deadline) {
  if (fd_ < 0 || eof_) {
    return false;
  }
  auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
  pollfd p{fd_, POLLIN, 0};
  if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
    timed_out_ = true;
    return false;
  }
  std::string buf(std::min<size_t>(max, 64 * 1024), '\0');
  ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    return true;
  }
  if (n <= 0) {
    eof_ = true;
    finish();
    return false;
  }
  parse(buf.data(), static_cast<size_t>(n));
  return true;
}

void HttpClient::parse(const char* data, size_t len) {
  if (broken_) {
    return;
  }
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_PAUSED) {
    const char* pos = llhttp_get_error_pos(&parser_);
    pending_.assign(pos, static_cast<size_t>(data + len - pos));
    llhttp_resume(&parser_);
  } else if (err != HPE_OK) {
    broken_ = true;
    UNSCOPED_INFO("response parse error: " << llhttp_errno_name(err) << " "
                                           << llhttp_get_error_reason(&parser_));
  }
}

void HttpClient::finish() {
  if (!done_ && !broken_) {
    llhttp_finish(&parser_);  // completes a close-delimited body; a cut one stays incomplete
  }
}

int HttpClient::on_header_field(llhttp_t* p, const char* at, size_t len) {
  auto* self = static_cast<HttpClient*>(p->data);
  if (self->in_value_ || self->cur_.headers.empty()) {
    self->cur_.headers.emplace_back();
  }
  self->in_value_ = false;
  self->cur_.headers.back().first.append(at, len);
  return 0;
}

int HttpClient::on_header_value(llhttp_t* p, const char* at, size_t len) {
  auto* self = static_cast<HttpClient*>(p->data);
  self->in_value_ = true;
  self->cur_.headers.back().second.append(at, len);
  return 0;
}

int HttpClient::on_headers_complete(llhttp_t* p) {
  auto* self = static_cast<HttpClient*>(p->data);
  self->cur_.status = llhttp_get_status_code(p);
  self->head_done_ = true;
  return 0;
}

int HttpClient::on_body(llhttp_t* p, const char* at, size_t len) {
  static_cast<HttpClient*>(p->data)->cur_.body.append(at, len);
  return 0;
}

int HttpClient::on_message_complete(llhttp_t* p) {
  auto* self = static_cast<HttpClient*>(p->data);
  self->cur_.complete = true;
  self->done_ = true;
  return HPE_PAUSED;  // stop at the end of this response; the rest stays in pending_
}

Response HttpClient::read_response() {
  start_message();
  auto deadline = Clock::now() + timeout_;
  while (!done_ && !broken_ && fill(64 * 1024, deadline)) {
  }
  return std::move(cur_);
}

Response HttpClient::read_head() {
  start_message();
  auto deadline = Clock::now() + timeout_;
  while (!head_done_ && !broken_ && fill(64 * 1024, deadline)) {
  }
  Response head;
  head.status = cur_.status;
  head.headers = cur_.headers;
  return head;
}

std::string HttpClient::read_body(size_t max) {
  auto deadline = Clock::now() + timeout_;
  while (cur_.body.empty() && !done_ && !broken_ && fill(max, deadline)) {
  }
  return std::exchange(cur_.body, {});
}

bool HttpClient::wait_closed(Ms timeout) {
  auto deadline = Clock::now() + timeout;
  while (!eof_ && fd_ >= 0) {
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
      return false;
    }
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      eof_ = true;
    }
  }
  return eof_;
}

Response fetch(uint16_t port, std::string_view method, std::string_view target,
               const Headers& headers, std::string_view body, Ms timeout) {
  HttpClient client(port, timeout);
  if (!client.send(http_request(method, target, headers, body))) {
    return {};
  }
  return client.read_response();
}

Headers end_to_end_headers(const Headers& headers) {
  static const std::vector<std::string> skip = {
      "connection", "keep-alive",     "proxy-connection",   "proxy-authenticate",
      "te",         "trailer",        "transfer-encoding",  "upgrade",
      "date",       "content-length", "proxy-authorization"};
  Headers out;
  for (const auto& [name, value] : headers) {
    std::string n = lowercase(name);
    if (std::find(skip.begin(), skip.end(), n) == skip.end()) {
      out.emplace_back(n, value);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace gbt
