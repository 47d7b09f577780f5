#include "proxy/worker.h"

#include "base/log.h"
#include "http/status.h"
#include "proxy/auth.h"
#include "proxy/gemini_error.h"
#include "proxy/route.h"
#include "proxy/session.h"
#include "llm/openai/chat_response.h"

namespace gb::proxy {

namespace {
Errc errc_for_status(int status) {
  switch (status) {
    case 408:
      return Errc::header_timeout;
    case 413:
      return Errc::body_too_large;
    case 431:
      return Errc::headers_too_large;
    case 405:
      return Errc::method_not_allowed;
    default:
      return Errc::bad_request;
  }
}

uint64_t ms_of(std::chrono::milliseconds d) {
  return static_cast<uint64_t>(d.count());
}

http::ServerLimits server_limits_of(const config::Limits& lim) {
  http::ServerLimits l;
  l.max_body = lim.max_body;
  l.max_header = lim.max_header;
  l.header_timeout_ms = ms_of(lim.header_timeout);
  l.idle_timeout_ms = ms_of(lim.idle_timeout);
  l.send_timeout_ms = ms_of(lim.send_timeout);
  return l;
}
}  // namespace

Worker::Worker(unsigned index, Runtime& rt) : index_(index), rt_(rt) {
  snap_ = rt_.current();
  snap_gen_ = rt_.generation();
  const config::Limits& lim = snap_->config->limits;
  http::ServerOptions opts;
  opts.limits = server_limits_of(lim);
  opts.max_connections = lim.max_connections;
  opts.stats = &rt_.server_stats;
  opts.handler = [this](http::Exchange& ex) { handle(ex); };
  opts.on_reject = [this](std::string_view peer, std::string_view target, int status,
                          std::string_view reason) {
    // The query may hold a credential (?key=): log the path only.
    LOG_INFO("access")
        .kv("sid", ++next_sid_)
        .kv("client", peer)
        .kv("path", target.substr(0, target.find('?')))
        .kv("status", status)
        .kv("attempts", "")
        .kv("end", "local")
        .kv("err", errc_name(errc_for_status(status)))
        .kv("reason", reason);
  };
  opts.format_error = [this](std::string_view target, int status, std::string_view message,
                             std::string* ct) { return format_error(target, status, message, ct); };
  server_ = std::make_unique<http::HttpServer>(loop_, std::move(opts));
  upstream_ = std::make_unique<http::UpstreamPool>(loop_);
  mailbox_ = std::make_shared<uv::Mailbox>(loop_.get());
  // Sessions are numbered per worker; the worker index in the top bits keeps ids unique.
  next_sid_ = static_cast<uint64_t>(index) << 48;
  stop_async_ = new uv_async_t;
  uv_async_init(loop_.get(), stop_async_, &Worker::on_stop);
  stop_async_->data = this;
}

Worker::~Worker() {
  join();
  if (!thread_started_) {
    // Never ran (startup failed later on): its handles close here, on this thread.
    uv::close_and_delete(stop_async_);
    stop_async_ = nullptr;
    mailbox_->close();
    server_.reset();
    upstream_.reset();
    loop_.close();
  }
}

Result<uint16_t> Worker::listen(const sockaddr* addr, uint64_t tag) {
  if (stopping_) {
    return Error::make(Errc::shutting_down, Side::internal, "the worker is stopping");
  }
  return server_->listen(addr, true, tag);
}

void Worker::apply_limits(const config::Limits& lim) {
  server_->set_limits(server_limits_of(lim), lim.max_connections);
}

void Worker::close_listeners(uint64_t tag) {
  server_->close_listeners(tag);
}

bool Worker::post(std::function<void()> fn) {
  return mailbox_->post(std::move(fn));
}

void Worker::start(std::function<void()> on_exit) {
  thread_started_ = true;
  thread_ = std::thread([this, on_exit = std::move(on_exit)] {
    uv_run(loop_.get(), UV_RUN_DEFAULT);
    {
      std::lock_guard<std::mutex> lock(stop_mu_);
      loop_done_ = true;
      uv::close_and_delete(stop_async_);
      stop_async_ = nullptr;
    }
    // Tear down in dependency order on the loop's own thread: connections (and the
    // sessions they end), then upstream connections, then whatever handle is left.
    grace_timer_.reset();
    mailbox_->close();
    server_.reset();
    upstream_.reset();
    loop_close_rc_ = loop_.close();
    if (on_exit) {
      on_exit();
    }
  });
}

void Worker::join() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Worker::request_stop(uint64_t grace_ms) {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (loop_done_) {
    return;
  }
  grace_ms_.store(grace_ms);
  stop_requests_.fetch_add(1);
  uv_async_send(stop_async_);
}

void Worker::on_stop(uv_async_t* a) {
  auto* self = static_cast<Worker*>(a->data);
  if (self != nullptr) {
    self->stop_now();
  }
}

void Worker::stop_now() {
  // uv_async_send coalesces: two requests may arrive as one callback.
  bool cut = stop_requests_.load() > 1 || grace_ms_.load() == 0;
  if (stopping_ || cut) {
    if (!stopping_) {
      stopping_ = true;
      server_->shutdown();
      uv_unref(reinterpret_cast<uv_handle_t*>(stop_async_));
    }
    // Asked again while draining: cut what is left now.
    server_->terminate();
    upstream_->close_idle();
    return;
  }
  stopping_ = true;
  // Stop accepting; idle connections close now, busy ones after their response. The loop
  // ends by itself when the last one is gone, or the grace timer cuts the rest.
  server_->shutdown();
  upstream_->close_idle();
  uv_unref(reinterpret_cast<uv_handle_t*>(stop_async_));
  grace_timer_ = std::make_unique<uv::Timer>(loop_.get());
  grace_timer_->start(grace_ms_.load(), [this] {
    if (server_->connections() > 0) {
      LOG_WARN("server.grace_expired").kv("worker", index_).kv("cut", server_->connections());
    }
    server_->terminate();
    upstream_->close_idle();
  });
  // The grace timer must not keep an otherwise finished loop alive.
  grace_timer_->unref();
}

const Snapshot& Worker::snapshot() {
  uint64_t gen = rt_.generation();
  if (gen != snap_gen_) {
    snap_ = rt_.current();
    snap_gen_ = gen;
  }
  return *snap_;
}

// Refusals before a route handler runs (413, 431, ...) take the shape of the API the
// path belongs to.
std::string Worker::format_error(std::string_view target, int status, std::string_view message,
                                 std::string* content_type) {
  *content_type = "application/json; charset=UTF-8";
  std::string_view path = target.substr(0, target.find('?'));
  if (match_route("POST", path).api == ClientApi::openai) {
    return llm::openai::error_body_for_status(status, message);
  }
  return gemini_error_body(status, message);
}

void Worker::reply(http::Exchange& ex, int status, Errc err, std::string_view message,
                   const char* allow) {
  http::Headers h;
  h.add("Content-Type", "application/json; charset=UTF-8");
  if (allow != nullptr) {
    h.add("Allow", allow);
  }
  log_access(ex, status, err, message);
  bool openai = match_route(ex.request().method, ex.request().path()).api == ClientApi::openai;
  ex.respond(status, std::move(h),
             openai ? llm::openai::error_body_for_status(status, message)
                    : gemini_error_body(status, message));
}

void Worker::log_access(http::Exchange& ex, int status, Errc err, std::string_view reason) {
  LOG_INFO("access")
      .kv("sid", ++next_sid_)
      .kv("client", ex.peer())
      .kv("method", ex.request().method)
      .kv("path", ex.request().path())
      .kv("status", status)
      .kv("attempts", "")
      .kv("end", "local")
      .kv("err", err == Errc::ok ? "-" : errc_name(err))
      .kv("reason", reason);
}

void Worker::handle(http::Exchange& ex) {
  // Counted per worker: one shared counter would bounce its cache line between cores.
  requests_.store(requests_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  const http::Request& req = ex.request();
  Route route = match_route(req.method, req.path());
  switch (route.kind) {
    case RouteKind::health:
      serve_health(ex);
      return;
    case RouteKind::not_found:
      reply(ex, 404, Errc::not_found, "no route for " + req.method + " " + std::string(req.path()));
      return;
    case RouteKind::bad_method:
      reply(ex, 405, Errc::method_not_allowed,
            "method " + req.method + " is not allowed here; use " + route.allow, route.allow);
      return;
    case RouteKind::bad_model:
      reply(ex, 400, Errc::bad_request, "invalid model name in the path");
      return;
    case RouteKind::gemini:
    case RouteKind::openai_chat:
    case RouteKind::openai_embeddings:
    case RouteKind::openai_models:
    case RouteKind::openai_model:
      break;
  }
  std::shared_ptr<const Snapshot> snap = (snapshot(), snap_);
  const config::Config& cfg = *snap->config;
  std::string token_id;
  switch (authenticate(req, cfg.clients.tokens, cfg.clients.allow_anonymous, &token_id)) {
    case AuthResult::missing:
      reply(ex, 401, Errc::unauthorized,
            "missing credential: send a gbd client token as 'Authorization: Bearer TOKEN', "
            "'x-goog-api-key: TOKEN' or '?key=TOKEN'");
      return;
    case AuthResult::invalid:
      reply(ex, 401, Errc::unauthorized, "invalid client token");
      return;
    case AuthResult::ok:
      break;
  }
  if (route.api == ClientApi::openai) {
    handle_openai(ex, std::move(route), std::move(snap), std::move(token_id));
    return;
  }
  const config::Pool* pool = route.model.empty() ? nullptr : cfg.pool_for_model(route.model);
  if (route.model.empty()) {
    // models.list: served by the first gemini pool.
    for (const config::Pool& p : cfg.pools) {
      if (p.provider == config::Provider::gemini) {
        pool = &p;
        break;
      }
    }
  }
  if (pool == nullptr || pool->provider != config::Provider::gemini) {
    reply(ex, 404, Errc::no_pool,
          "no gemini pool serves model '" + route.model + "' (check the pools' models globs)");
    return;
  }
  pool::KeyPool* keys = snap->keys_of(*pool);
  auto* s = new Session(loop_, mailbox_, *upstream_, ex, snap, std::move(route), *pool, *keys,
                        std::move(token_id), ++next_sid_);
  s->start();
}

void Worker::serve_health(http::Exchange& ex) {
  const Snapshot& snap = snapshot();
  auto now = pool::Clock::now();
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                 rt_.started)
                    .count();
  bool degraded = false;
  std::string pools;
  for (const config::Pool& p : snap.config->pools) {
    pool::Counts c = snap.keys_of(p)->counts(now);
    degraded |= c.active == 0;
    if (!pools.empty()) {
      pools += ',';
    }
    http::append_json_string(pools, p.name);
    pools += ":{\"keys\":" + std::to_string(c.active + c.cooling + c.disabled) +
             ",\"active\":" + std::to_string(c.active) +
             ",\"cooling\":" + std::to_string(c.cooling) +
             ",\"disabled\":" + std::to_string(c.disabled) +
             ",\"waiting\":" + std::to_string(c.waiting) + "}";
  }
  std::string body = std::string("{\"status\":\"") + (degraded ? "degraded" : "ok") +
                     "\",\"version\":\"" GB_VERSION "\",\"uptime\":" + std::to_string(uptime) +
                     ",\"pools\":{" + pools + "}}\n";
  http::Headers h;
  h.add("Content-Type", "application/json");
  h.add("Cache-Control", "no-store");
  log_access(ex, 200, Errc::ok, "health");
  ex.respond(200, std::move(h), body);
}

}  // namespace gb::proxy
