#include "mock_server.h"

#include "errors.h"
#include "http/status.h"
#include "json_out.h"

namespace gb::mock {

namespace {

// A body that is not UTF-8 (the API rejected it, but the test still wants to see it) must not
// make /_mock/last unparsable.
void append_json_bytes(std::string& out, std::string_view s) {
  http::append_json_string(out, valid_utf8(s));
}

}  // namespace

// ---------------------------------------------------------------- SharedState

SharedState::SharedState(unsigned workers) {
  for (unsigned i = 0; i < workers; ++i) {
    slots_.push_back(std::make_unique<Slot>());
  }
}

uint64_t SharedState::requests() const {
  uint64_t n = 0;
  for (const auto& s : slots_) {
    n += s->requests.load(std::memory_order_relaxed);
  }
  return n;
}

uint64_t SharedState::flaky_hit(const std::string& key) {
  std::lock_guard<std::mutex> lock(flaky_mu_);
  return flaky_[key]++;
}

void SharedState::record_last(unsigned worker, http::Request& req, std::string_view key) {
  Slot& s = *slots_[worker];
  std::lock_guard<std::mutex> lock(s.mu);
  s.seq = seq_.fetch_add(1, std::memory_order_relaxed) + 1;
  // assign() and swap() reuse the slot's buffers: recording costs no allocation once warm.
  s.method.assign(req.method);
  s.target.assign(req.target);
  s.key.assign(key);
  s.headers.swap(req.headers.list());
  s.body.swap(req.body);
}

std::string SharedState::last_json() const {
  const Slot* last = nullptr;
  std::unique_lock<std::mutex> held;
  for (const auto& s : slots_) {
    std::unique_lock<std::mutex> lock(s->mu);
    if (s->seq != 0 && (last == nullptr || s->seq > last->seq)) {
      last = s.get();
      held = std::move(lock);
    }
  }
  std::string out = "{\"method\":";
  append_json_bytes(out, last != nullptr ? last->method : "");
  out += ",\"target\":";
  append_json_bytes(out, last != nullptr ? last->target : "");
  out += ",\"headers\":[";
  if (last != nullptr) {
    for (size_t i = 0; i < last->headers.size(); ++i) {
      out += i == 0 ? "[" : ",[";
      append_json_bytes(out, last->headers[i].name);
      out += ',';
      append_json_bytes(out, last->headers[i].value);
      out += ']';
    }
  }
  out += "],\"body\":";
  append_json_bytes(out, last != nullptr ? last->body : "");
  out += ",\"api_key\":";
  append_json_bytes(out, last != nullptr ? last->key : "");
  out += '}';
  return out;
}

void SharedState::reset() {
  stats.accepted.store(0, std::memory_order_relaxed);
  for (auto& s : slots_) {
    s->requests.store(0, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(s->mu);
    s->seq = 0;
    s->method.clear();
    s->target.clear();
    s->headers.clear();
    s->body.clear();
    s->key.clear();
  }
  std::lock_guard<std::mutex> lock(flaky_mu_);
  flaky_.clear();
}

// ---------------------------------------------------------------- MockServer

MockServer::MockServer(uv::Loop& loop, SharedState& shared, unsigned worker, MockOptions opts)
    : loop_(loop), shared_(shared), worker_(worker), opts_(opts) {}

void MockServer::handle(http::Exchange& ex) {
  http::Request& req = ex.request();
  if (req.path().substr(0, 7) == "/_mock/") {
    handle_control(ex);
    return;
  }
  shared_.count_request(worker_);
  std::string key;
  Reply reply = decide(req, &key);
  shared_.record_last(worker_, req, key);
  if (reply.immediate()) {
    ex.respond(reply.status, reply_headers(reply), reply.payload());
    return;
  }
  Responder::start(loop_, ex, std::move(reply));
}

void MockServer::handle_control(http::Exchange& ex) {
  const http::Request& req = ex.request();
  std::string_view path = req.path();
  auto reply = [&ex](int status, std::string body) {
    http::Headers h;
    h.add("Content-Type", "application/json");
    ex.respond(status, std::move(h), body);
  };
  auto wrong_method = [&](std::string_view want) {
    reply(405, "{\"error\":\"use " + std::string(want) + "\"}");
  };
  if (path == "/_mock/stats") {
    if (req.method != "GET") {
      return wrong_method("GET");
    }
    reply(200, "{\"connections\":" + std::to_string(shared_.stats.accepted.load()) +
                   ",\"requests\":" + std::to_string(shared_.requests()) +
                   ",\"open\":" + std::to_string(shared_.stats.open.load()) + "}");
  } else if (path == "/_mock/last") {
    if (req.method != "GET") {
      return wrong_method("GET");
    }
    reply(200, shared_.last_json());
  } else if (path == "/_mock/reset") {
    if (req.method != "POST") {
      return wrong_method("POST");
    }
    shared_.reset();
    reply(200, "{\"ok\":true}");
  } else {
    reply(404, "{\"error\":\"no such mock endpoint\"}");
  }
}

std::string format_server_error(std::string_view target, int status, std::string_view message,
                                std::string* content_type) {
  (void)target;
  *content_type = "application/json; charset=UTF-8";
  return error_body(status, message);
}

}  // namespace gb::mock
