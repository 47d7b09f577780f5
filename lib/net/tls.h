// The TLS engine: mbedTLS 2.28 over memory buffers, with no socket and no libuv.
//   TlsClientContext / TlsServerContext  shared configuration      (net/tls_context.h)
//   TlsSessionCache                      client session resumption (net/tls_session_cache.h)
//   TlsSession                           one connection            (net/tls_session.h)
// The transport moves bytes between a TlsSession and its uv_tcp_t.
#pragma once

#include "net/tls_context.h"
#include "net/tls_session.h"
#include "net/tls_session_cache.h"
