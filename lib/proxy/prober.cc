#include "proxy/prober.h"

#include <algorithm>

#include "base/log.h"

namespace gb::proxy {

namespace {
constexpr uint64_t kTickMs = 1000;
// A probe answer is small; an error body past this is cut (only detail is lost).
constexpr size_t kMaxProbeBody = 64 * 1024;
}  // namespace

// One probe in flight: the sink of its upstream answer.
class Prober::Call : public http::ResponseSink, public uv::Deletable {
 public:
  Call(Prober& owner, std::shared_ptr<pool::KeyPool> keys, std::string pool_name,
       pool::ProbeLease lease)
      : owner_(owner), keys_(std::move(keys)), pool_(std::move(pool_name)), lease_(std::move(lease)) {}

  void cancel() {
    if (conn_ != nullptr) {
      conn_->cancel();
      conn_ = nullptr;
    }
    // Back to the pool with no news: the key waits for its next probe.
    keys_->probe_done(lease_, pool::classify_transport(Errc::client_gone), pool::Clock::now(),
                      std::chrono::system_clock::now());
  }

  http::ClientConn* conn_ = nullptr;

 private:
  void on_response_head(int status, http::Headers headers) override {
    status_ = status;
    headers_ = std::move(headers);
  }
  void on_response_body(const char* data, size_t n) override {
    body_.append(data, std::min(n, kMaxProbeBody - std::min(kMaxProbeBody, body_.size())));
  }
  void on_response_end() override {
    conn_ = nullptr;
    const std::string* ra = headers_.find("retry-after");
    auto wall = std::chrono::system_clock::now();
    done(pool::classify_response(status_, body_, ra ? *ra : std::string_view(), wall),
         std::to_string(status_));
  }
  void on_response_error(const Error& err, bool, bool) override {
    conn_ = nullptr;
    done(pool::classify_transport(err.code), err.name());
  }

  void done(const pool::Verdict& v, const std::string& answer) {
    pool::Transition t =
        keys_->probe_done(lease_, v, pool::Clock::now(), std::chrono::system_clock::now());
    if (t.kind == pool::Transition::enabled) {
      LOG_INFO("key.enabled").kv("pool", pool_).kv("key", lease_.id).kv("reason", "probe_ok");
    } else {
      bool refused = v.outcome == pool::Outcome::client_error;
      log::Level level = refused ? log::Level::warn : log::Level::info;
      if (log::enabled(level)) {
        log::Line line(level, "key.probe_failed");
        line.kv("pool", pool_).kv("key", lease_.id).kv("answer", answer).kv("reason", v.reason);
        if (refused) {
          line.kv("detail", "the upstream refused the probe itself: check the pool's probe_model");
        }
      }
    }
    owner_.call_done(this);
  }

  Prober& owner_;
  std::shared_ptr<pool::KeyPool> keys_;
  std::string pool_;
  pool::ProbeLease lease_;
  int status_ = 0;
  http::Headers headers_;
  std::string body_;
};

Prober::Prober(uv::Loop& loop, Runtime& rt) : loop_(loop), rt_(rt), upstream_(loop), timer_(loop.get()) {}

Prober::~Prober() {
  stop();
}

std::string Prober::probe_head(const config::Pool& pool, const std::string& key) {
  std::string path = pool.origin.path_prefix;
  switch (pool.provider) {
    case config::Provider::gemini:
      path += pool.probe_model.empty() ? "/v1beta/models?pageSize=1"
                                       : "/v1beta/models/" + pool.probe_model;
      break;
    case config::Provider::openai:
      // base_url is what OpenAI's SDKs call their base URL: it ends before /models.
      path += pool.probe_model.empty() ? "/models" : "/models/" + pool.probe_model;
      break;
    case config::Provider::anthropic:
      path += pool.probe_model.empty() ? "/v1/models" : "/v1/models/" + pool.probe_model;
      break;
  }
  std::string head = "GET " + path + " HTTP/1.1\r\nHost: " + pool.origin.authority() + "\r\n";
  switch (pool.provider) {
    case config::Provider::gemini:
      head += "x-goog-api-key: " + key + "\r\n";
      break;
    case config::Provider::openai:
      head += "Authorization: Bearer " + key + "\r\n";
      break;
    case config::Provider::anthropic:
      head += "x-api-key: " + key + "\r\nanthropic-version: 2023-06-01\r\n";
      break;
  }
  head += "Accept: application/json\r\n\r\n";
  return head;
}

void Prober::start() {
  stopped_ = false;
  arm();
}

void Prober::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  timer_.stop();
  std::vector<Call*> calls = std::move(calls_);
  calls_.clear();
  for (Call* c : calls) {
    c->cancel();
    delete c;
  }
  in_flight_ = 0;
  upstream_.close_idle();
}

void Prober::arm() {
  if (stopped_) {
    return;
  }
  timer_.start(kTickMs, [this] { tick(); });
  timer_.unref();  // probes never keep the daemon from exiting
}

void Prober::tick() {
  std::shared_ptr<const Snapshot> snap = rt_.current();
  auto now = pool::Clock::now();
  const config::Limits& lim = snap->config->limits;
  http::ClientTimeouts t;
  t.connect_ms = static_cast<uint64_t>(lim.connect_timeout.count());
  // A models.get answers at once; a key that makes it hang is not healthy either.
  t.response_ms = std::min<uint64_t>(static_cast<uint64_t>(lim.upstream_timeout.count()), 30000);
  t.idle_ms = t.response_ms;
  for (const config::Pool& p : snap->config->pools) {
    if (in_flight_ >= kMaxInFlight) {
      break;
    }
    auto it = snap->pools.find(p.name);
    if (it == snap->pools.end()) {
      continue;
    }
    for (pool::ProbeLease& lease : it->second->due_probes(now, kMaxInFlight - in_flight_)) {
      auto* call = new Call(*this, it->second, p.name, lease);
      Error err;
      http::ClientConn* conn = upstream_.acquire(p.origin, p.ca_file, &err, false);
      if (conn == nullptr) {
        call->cancel();
        delete call;
        LOG_ERROR("upstream.tls_config").kv("pool", p.name).kv("detail", err.context);
        continue;
      }
      LOG_DEBUG("key.probe").kv("pool", p.name).kv("key", lease.id);
      call->conn_ = conn;
      calls_.push_back(call);
      ++in_flight_;
      conn->send(probe_head(p, lease.key), std::make_shared<const std::string>(), call, t);
    }
  }
  arm();
}

void Prober::call_done(Call* c) {
  auto it = std::find(calls_.begin(), calls_.end(), c);
  if (it != calls_.end()) {
    calls_.erase(it);
    --in_flight_;
  }
  loop_.defer_delete(c);
}

}  // namespace gb::proxy
