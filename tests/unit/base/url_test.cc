#include "base/url.h"

#include <catch2/catch.hpp>

TEST_CASE("parse_origin accepts http and https origins", "[url]") {
  struct Case {
    const char* url;
    bool tls;
    const char* host;
    uint16_t port;
    const char* prefix;
    const char* authority;
    const char* key;
  };
  const Case cases[] = {
      {"https://generativelanguage.googleapis.com", true, "generativelanguage.googleapis.com", 443,
       "", "generativelanguage.googleapis.com", "https://generativelanguage.googleapis.com:443"},
      {"https://api.openai.com/", true, "api.openai.com", 443, "", "api.openai.com",
       "https://api.openai.com:443"},
      {"http://127.0.0.1:8080/v1", false, "127.0.0.1", 8080, "/v1", "127.0.0.1:8080",
       "http://127.0.0.1:8080"},
      {"http://localhost", false, "localhost", 80, "", "localhost", "http://localhost:80"},
      {"http://localhost:443", false, "localhost", 443, "", "localhost:443",
       "http://localhost:443"},
      {"https://host:80", true, "host", 80, "", "host:80", "https://host:80"},
      {"HTTPS://API.Example.COM/Gemini/v1beta//", true, "api.example.com", 443, "/Gemini/v1beta",
       "api.example.com", "https://api.example.com:443"},
      {"https://[::1]:8443/proxy", true, "::1", 8443, "/proxy", "[::1]:8443", "https://[::1]:8443"},
      {"http://[2001:DB8:0:0::1]", false, "2001:db8::1", 80, "", "[2001:db8::1]",
       "http://[2001:db8::1]:80"},
      {"https://my_host.internal:65535/a/b/", true, "my_host.internal", 65535, "/a/b",
       "my_host.internal:65535", "https://my_host.internal:65535"},
      {"https://x/%20y", true, "x", 443, "/%20y", "x", "https://x:443"},
  };
  for (const Case& c : cases) {
    INFO(c.url);
    auto o = gb::parse_origin(c.url);
    REQUIRE(o.ok());
    CHECK(o->tls == c.tls);
    CHECK(o->host == c.host);
    CHECK(o->port == c.port);
    CHECK(o->path_prefix == c.prefix);
    CHECK(o->authority() == c.authority);
    CHECK(o->key() == c.key);
  }
}

TEST_CASE("parse_origin rejects what it cannot use, with a reason", "[url]") {
  struct Case {
    const char* url;
    const char* reason;  // a substring of the message
  };
  const Case cases[] = {
      {"", "missing scheme"},
      {"api.openai.com", "missing scheme"},
      {"ftp://host", "unsupported scheme \"ftp\""},
      {"socks5://host:1080", "unsupported scheme"},
      {"https://", "missing host"},
      {"https:///path", "missing host"},
      {"https://user:secret@host", "credentials"},
      {"https://host/path?key=1", "query"},
      {"https://host?x", "query"},
      {"https://host/#frag", "fragment"},
      {"https://host:", "port"},
      {"https://host:0", "port"},
      {"https://host:65536", "port"},
      {"https://host:8a", "port"},
      {"https://::1/", "brackets"},
      {"https://[::1", "closing"},
      {"https://[nothex::1]", "IPv6"},
      {"https://[::1]x", "after ']'"},
      {"https://[fe80::1%25eth0]", "IPv6"},
      {"https://1.2.3.256", "IPv4"},
      {"https://1.2.3", "IPv4"},
      {"https://01.2.3.4", "IPv4"},
      {"https://bad..name", "label"},
      {"https://-bad.example", "'-'"},
      {"https://bad host", "character"},
      {"https://host/a b", "space"},
  };
  for (const Case& c : cases) {
    INFO(c.url);
    auto o = gb::parse_origin(c.url);
    REQUIRE_FALSE(o.ok());
    CHECK(o.error().code == gb::Errc::config_invalid);
    CHECK_THAT(o.error().context, Catch::Contains(c.reason));
  }
}

TEST_CASE("parse_origin does not repeat credentials in its message", "[url]") {
  auto o = gb::parse_origin("https://user:hunter2@example.com");
  REQUIRE_FALSE(o.ok());
  CHECK(o.error().context.find("hunter2") == std::string::npos);
}

TEST_CASE("parse_listen accepts the documented forms", "[url]") {
  struct Case {
    const char* text;
    const char* host;
    uint16_t port;
    const char* canonical;
    bool v6;
    bool loopback;
  };
  const Case cases[] = {
      {"127.0.0.1:8000", "127.0.0.1", 8000, "127.0.0.1:8000", false, true},
      {"127.1.2.3:1", "127.1.2.3", 1, "127.1.2.3:1", false, true},
      {"0.0.0.0:8000", "0.0.0.0", 8000, "0.0.0.0:8000", false, false},
      {"192.168.1.10:65535", "192.168.1.10", 65535, "192.168.1.10:65535", false, false},
      {"[::1]:8000", "::1", 8000, "[::1]:8000", true, true},
      {"[0:0:0:0:0:0:0:1]:8000", "::1", 8000, "[::1]:8000", true, true},
      {"[::ffff:127.0.0.1]:80", "::ffff:127.0.0.1", 80, "[::ffff:127.0.0.1]:80", true, true},
      {"[::]:0", "::", 0, "[::]:0", true, false},
      {"[2001:db8::5]:443", "2001:db8::5", 443, "[2001:db8::5]:443", true, false},
      {"localhost:8000", "localhost", 8000, "localhost:8000", false, true},
      {"LocalHost:8000", "localhost", 8000, "localhost:8000", false, true},
      {"gbd.example.net:8000", "gbd.example.net", 8000, "gbd.example.net:8000", false, false},
      {"128.0.0.1:8000", "128.0.0.1", 8000, "128.0.0.1:8000", false, false},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto a = gb::parse_listen(c.text);
    REQUIRE(a.ok());
    CHECK(a->host == c.host);
    CHECK(a->port == c.port);
    CHECK(a->text == c.canonical);
    CHECK(a->is_v6 == c.v6);
    CHECK(a->is_loopback() == c.loopback);
  }
}

TEST_CASE("parse_listen rejects malformed addresses", "[url]") {
  struct Case {
    const char* text;
    const char* reason;
  };
  const Case cases[] = {
      {"", "empty"},
      {"127.0.0.1", "missing port"},
      {"localhost", "missing port"},
      {":8000", "missing host"},
      {"127.0.0.1:", "port"},
      {"127.0.0.1:65536", "port"},
      {"127.0.0.1:-1", "port"},
      {"::1:8000", "brackets"},
      {"[::1]", "missing port"},
      {"[::1]8000", "after ']'"},
      {"[zz::1]:80", "IPv6"},
      {"300.0.0.1:80", "IPv4"},
      {"http://127.0.0.1:80", "no scheme"},
      {"host name:80", "character"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto a = gb::parse_listen(c.text);
    REQUIRE_FALSE(a.ok());
    CHECK_THAT(a.error().context, Catch::Contains(c.reason));
  }
}
