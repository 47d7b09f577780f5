// Client-side TLS session cache: lets the next connection to the same upstream skip the
// full handshake (about 1 round trip and two signature checks less).
//
// Keyed by "host:port:sni" because a resumed handshake does not check the certificate
// again: a session is only valid for the name it was verified against. Entries also carry
// the id of the TlsClientContext that verified them and are ignored under any other one.
// One cache per worker loop; not thread-safe. Bounded: the oldest entry goes first.
#pragma once

#include <mbedtls/ssl.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

namespace gb::net {

class TlsSessionCache {
 public:
  static constexpr size_t kDefaultCapacity = 256;

  explicit TlsSessionCache(size_t capacity = kDefaultCapacity);
  ~TlsSessionCache();
  TlsSessionCache(const TlsSessionCache&) = delete;
  TlsSessionCache& operator=(const TlsSessionCache&) = delete;

  static std::string make_key(const std::string& host, uint16_t port, const std::string& sni);

  // The session saved for key under context ctx_id, or nullptr. The pointer stays valid
  // until the next store() or erase() on this cache; mbedtls_ssl_set_session copies it.
  const mbedtls_ssl_session* find(const std::string& key, uint64_t ctx_id) const;
  // Copies the session negotiated on ssl (after a successful client handshake). Replaces
  // the entry for key and makes it the newest. False if mbedTLS could not copy it.
  bool store(const std::string& key, uint64_t ctx_id, const mbedtls_ssl_context* ssl);
  void erase(const std::string& key);
  size_t size() const { return map_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  struct SessionFree {
    void operator()(mbedtls_ssl_session* s) const;
  };
  struct Entry {
    uint64_t ctx_id = 0;
    std::unique_ptr<mbedtls_ssl_session, SessionFree> session;
    std::list<std::string>::iterator age;
  };

  size_t capacity_;
  std::list<std::string> order_;  // oldest first
  std::unordered_map<std::string, Entry> map_;
};

}  // namespace gb::net
