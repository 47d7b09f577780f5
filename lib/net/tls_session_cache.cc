#include "net/tls_session_cache.h"

namespace gb::net {

void TlsSessionCache::SessionFree::operator()(mbedtls_ssl_session* s) const {
  mbedtls_ssl_session_free(s);
  delete s;
}

TlsSessionCache::TlsSessionCache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

TlsSessionCache::~TlsSessionCache() = default;

std::string TlsSessionCache::make_key(const std::string& host, uint16_t port,
                                      const std::string& sni) {
  return host + ":" + std::to_string(port) + ":" + sni;
}

const mbedtls_ssl_session* TlsSessionCache::find(const std::string& key, uint64_t ctx_id) const {
  auto it = map_.find(key);
  if (it == map_.end() || it->second.ctx_id != ctx_id) {
    return nullptr;
  }
  return it->second.session.get();
}

bool TlsSessionCache::store(const std::string& key, uint64_t ctx_id,
                            const mbedtls_ssl_context* ssl) {
  std::unique_ptr<mbedtls_ssl_session, SessionFree> session(new mbedtls_ssl_session);
  mbedtls_ssl_session_init(session.get());
  if (mbedtls_ssl_get_session(ssl, session.get()) != 0) {
    return false;
  }
  erase(key);
  while (map_.size() >= capacity_) {
    map_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  Entry& e = map_[key];
  e.ctx_id = ctx_id;
  e.session = std::move(session);
  e.age = std::prev(order_.end());
  return true;
}

void TlsSessionCache::erase(const std::string& key) {
  auto it = map_.find(key);
  if (it == map_.end()) {
    return;
  }
  order_.erase(it->second.age);
  map_.erase(it);
}

}  // namespace gb::net
