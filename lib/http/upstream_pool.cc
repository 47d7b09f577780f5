#include "http/upstream_pool.h"

#include <algorithm>

#include "base/log.h"
#include "net/tls.h"

namespace gb::http {

UpstreamPool::UpstreamPool(uv::Loop& loop, UpstreamPoolOptions opts)
    : loop_(loop), opts_(opts), session_cache_(std::make_unique<net::TlsSessionCache>()) {}

UpstreamPool::~UpstreamPool() {
  for (ClientConn* c : std::vector<ClientConn*>(all_.begin(), all_.end())) {
    c->cancel();
  }
}

ClientConn* UpstreamPool::acquire(const Origin& origin, const std::string& ca_file, Error* err,
                                  bool fresh_only) {
  std::string key = origin.key();
  if (!fresh_only) {
    auto it = idle_.find(key);
    if (it != idle_.end() && !it->second.empty()) {
      ClientConn* c = it->second.back();  // newest first: the oldest ones age out
      it->second.pop_back();
      c->timer_.stop();
      return c;
    }
  }
  std::shared_ptr<net::TlsClientContext> tls;
  if (origin.tls) {
    auto found = tls_by_ca_.find(ca_file);
    if (found == tls_by_ca_.end()) {
      auto created = net::TlsClientContext::create(ca_file);
      if (!created) {
        *err = created.error();
        return nullptr;
      }
      found = tls_by_ca_.emplace(ca_file, created.value()).first;
    }
    tls = found->second;
  }
  auto* c = new ClientConn(*this, origin, std::move(tls));
  all_.insert(c);
  return c;
}

void UpstreamPool::put_idle(ClientConn* c) {
  if (closing_) {
    c->cancel();
    return;
  }
  auto& list = idle_[c->origin_key_];
  if (list.size() >= opts_.max_idle_per_origin) {
    // Too many idle connections to this origin: close the oldest.
    ClientConn* oldest = list.front();
    list.erase(list.begin());
    oldest->cancel();
  }
  list.push_back(c);
  c->timer_.start(opts_.idle_ms, [c] { c->cancel(); });
}

void UpstreamPool::forget(ClientConn* c) {
  all_.erase(c);
  auto it = idle_.find(c->origin_key_);
  if (it != idle_.end()) {
    std::erase(it->second, c);
  }
}

void UpstreamPool::close_idle() {
  closing_ = true;
  for (auto& [key, list] : idle_) {
    for (ClientConn* c : std::vector<ClientConn*>(list)) {
      c->cancel();
    }
  }
  idle_.clear();
}

}  // namespace gb::http
