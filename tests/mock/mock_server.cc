#include "mock_server.h"

#include <map>

#include "errors.h"
#include "http/request.h"
#include "http/status.h"
#include "json_out.h"
#include "openai_request.h"

namespace gb::mock {

namespace {

// A body that is not UTF-8 (the API rejected it, but the test still wants to see it) must not
// make /_mock/last unparsable.
void append_json_bytes(std::string& out, std::string_view s) {
  http::append_json_string(out, valid_utf8(s));
}

// key= (non-empty) and as= (may be empty), both percent-decoded like ?key= on the API.
bool script_params(std::string_view query, std::string* key, std::string* as) {
  std::string raw_key;
  std::string raw_as;
  return http::query_param(query, "key", &raw_key) && http::query_param(query, "as", &raw_as) &&
         http::percent_decode(raw_key, key) && http::percent_decode(raw_as, as) && !key->empty();
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

void SharedState::record(unsigned worker, http::Request& req, const std::string& key,
                         size_t action) {
  Slot& s = *slots_[worker];
  std::lock_guard<std::mutex> lock(s.mu);
  if (!key.empty()) {
    s.tally.count(key, action);
  }
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

std::string SharedState::stats_json() const {
  std::map<std::string, KeyCounts> keys;
  for (const auto& s : slots_) {
    std::lock_guard<std::mutex> lock(s->mu);
    s->tally.merge_into(&keys);
  }
  std::string out = "{\"connections\":" + std::to_string(stats.accepted.load()) +
                    ",\"requests\":" + std::to_string(requests()) +
                    ",\"open\":" + std::to_string(stats.open.load()) +
                    ",\"blobs\":" + std::to_string(blobs_.load()) +
                    ",\"blob_redirects\":" + std::to_string(blob_redirects_.load()) + ",\"keys\":";
  append_key_counts_json(out, keys);
  out += '}';
  return out;
}

void SharedState::script(const std::string& key, const std::string& as) {
  std::lock_guard<std::mutex> lock(scripts_mu_);
  scripts_.set(key, as);
  any_script_.store(!scripts_.empty(), std::memory_order_release);
}

bool SharedState::scripted(const std::string& key, std::string* as) const {
  if (!any_script_.load(std::memory_order_acquire)) {
    return false;
  }
  std::lock_guard<std::mutex> lock(scripts_mu_);
  const std::string* found = scripts_.scenario_key(key);
  if (found == nullptr) {
    return false;
  }
  *as = *found;
  return true;
}

void SharedState::reset() {
  stats.accepted.store(0, std::memory_order_relaxed);
  blobs_.store(0, std::memory_order_relaxed);
  blob_redirects_.store(0, std::memory_order_relaxed);
  for (auto& s : slots_) {
    s->requests.store(0, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(s->mu);
    s->seq = 0;
    s->method.clear();
    s->target.clear();
    s->headers.clear();
    s->body.clear();
    s->key.clear();
    s->tally.clear();
  }
  {
    std::lock_guard<std::mutex> lock(flaky_mu_);
    flaky_.clear();
  }
  std::lock_guard<std::mutex> lock(scripts_mu_);
  scripts_.clear();
  any_script_.store(false, std::memory_order_release);
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
  size_t action = kOtherAction;
  Reply reply =
      is_openai_path(req.path()) ? decide_openai(req, &key, &action) : decide(req, &key, &action);
  shared_.record(worker_, req, key, action);
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
  if (path == "/_mock/blob" || path == "/_mock/blob/redirect") {
    handle_blob(ex);
  } else if (path == "/_mock/stats") {
    if (req.method != "GET") {
      return wrong_method("GET");
    }
    reply(200, shared_.stats_json());
  } else if (path == "/_mock/script") {
    if (req.method != "POST") {
      return wrong_method("POST");
    }
    std::string key;
    std::string as;
    if (!script_params(req.query(), &key, &as)) {
      return reply(400, "{\"error\":\"use /_mock/script?key=K&as=S (as= empty: unscript)\"}");
    }
    shared_.script(key, as);
    reply(200, "{\"ok\":true}");
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
  *content_type = "application/json; charset=UTF-8";
  if (is_openai_path(target)) {
    return wrap_openai_error(error_body(status, message));
  }
  return error_body(status, message);
}

}  // namespace gb::mock
