// gbctl against a real gbd over its control socket: every command with and without
// --json, runtime keys end to end, reset and manual parking, the request log live,
// reloads good and bad, and the exit statuses of DESIGN §4.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <rapidjson/document.h>
#include <sstream>
#include <thread>

#include "base/key_id.h"
#include "harness.h"

using namespace gbt;

namespace {

RunResult gbctl(const TempDir& dir, std::vector<std::string> args, Ms timeout = 10s) {
  std::vector<std::string> argv = {GBCTL_PATH, "-s", dir.file("gbd.sock")};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(dir, argv, timeout);
}

rapidjson::Document json_of(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  INFO("not JSON: " << text);
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

// The key entry of `key` in `gbctl --json keys status`, or a null value.
rapidjson::Document key_entry(const TempDir& dir, std::string_view key) {
  RunResult r = gbctl(dir, {"--json", "keys", "status"});
  REQUIRE(r.status == 0);
  rapidjson::Document all = json_of(r.out);
  rapidjson::Document out;
  for (const auto& k : all["keys"].GetArray()) {
    if (k["id"].GetString() == gb::key_id(key)) {
      out.CopyFrom(k, out.GetAllocator());
    }
  }
  return out;
}

Response generate(Gbd& gbd) {
  return gbd.fetch("POST", model_path("generateContent"), {{"Content-Type", "application/json"}},
                   kPrompt, 10s);
}

}  // namespace

TEST_CASE("gbctl status shows the daemon, its listeners and pools", "[integration][gbctl]") {
  Rig rig;
  RunResult text = gbctl(rig.dir, {"status"});
  INFO(text.out << text.err);
  REQUIRE(text.status == 0);
  CHECK(text.out.find("gbd " GB_VERSION) != std::string::npos);
  CHECK(text.out.find("127.0.0.1:" + std::to_string(rig.gbd.port())) != std::string::npos);
  CHECK(text.out.find("gemini") != std::string::npos);

  RunResult js = gbctl(rig.dir, {"--json", "status"});
  REQUIRE(js.status == 0);
  auto d = json_of(js.out);
  CHECK(d["listeners"][0]["bound"].GetString() ==
        "127.0.0.1:" + std::to_string(rig.gbd.port()));
  CHECK(d["workers"].GetInt() == 2);
  CHECK(d["pools"][0]["name"].GetString() == std::string("gemini"));
  CHECK(d["pools"][0]["active"].GetInt() == 2);
  CHECK(d["control_socket"].GetString() == rig.dir.file("gbd.sock"));
}

TEST_CASE("a key added with gbctl serves traffic, survives a restart and leaves when removed",
          "[integration][gbctl]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig cfg = with_keys({"ok-1"});
  cfg.base_url = mock.url();
  std::optional<Gbd> gbd(std::in_place, dir, cfg);

  RunResult add = gbctl(dir, {"keys", "add", "ok-added", "ok-1"});
  INFO(add.out << add.err);
  REQUIRE(add.status == 0);
  CHECK(add.out.find("added " + gb::key_id("ok-added")) != std::string::npos);
  CHECK(add.out.find("already present, not added: " + gb::key_id("ok-1")) != std::string::npos);
  CHECK(add.out.find("ok-added") == std::string::npos);  // never printed whole

  auto entry = key_entry(dir, "ok-added");
  REQUIRE(entry.IsObject());
  CHECK(entry["origin"].GetString() == std::string("runtime"));
  CHECK(entry["state"].GetString() == std::string("active"));

  for (int i = 0; i < 6; ++i) {
    REQUIRE(generate(*gbd).status == 200);
  }
  CHECK(mock.key_requests("ok-added", "generateContent") == 3);

  // Runtime keys are kept in gbd.db.
  REQUIRE(gbd->stop() == 0);
  gbd.reset();
  gbd.emplace(dir, cfg);
  REQUIRE(key_entry(dir, "ok-added").IsObject());

  // A config key is not removed: the config says so.
  RunResult refused = gbctl(dir, {"keys", "remove", gb::key_id("ok-1")});
  CHECK(refused.status == 1);
  CHECK(refused.err.find("key_in_config") != std::string::npos);

  RunResult removed = gbctl(dir, {"keys", "remove", gb::key_id("ok-added")});
  INFO(removed.out << removed.err);
  REQUIRE(removed.status == 0);
  CHECK_FALSE(key_entry(dir, "ok-added").IsObject());
  mock.reset();
  for (int i = 0; i < 4; ++i) {
    REQUIRE(generate(*gbd).status == 200);
  }
  CHECK(mock.key_requests("ok-added") == 0);
  CHECK(gbd->keys_in_log().empty());
}

TEST_CASE("keys add reads keys from standard input, one a line", "[integration][gbctl]") {
  Rig rig;
  std::string input = rig.dir.write("new.keys", "# spare keys\nok-a\n\n  ok-b  \nok-1\n");
  RunResult r = run(rig.dir, {"/bin/sh", "-c",
                              std::string(GBCTL_PATH) + " -s " + rig.dir.file("gbd.sock") +
                                  " --json keys add - < " + input});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  auto d = json_of(r.out);
  REQUIRE(d["keys"].Size() == 3);
  CHECK(d["keys"][0]["added"].GetBool());
  CHECK(d["keys"][1]["added"].GetBool());
  CHECK_FALSE(d["keys"][2]["added"].GetBool());  // ok-1 is in the config
}

TEST_CASE("keys reset brings a disabled key back", "[integration][gbctl]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig cfg = with_keys({"invalid-a", "ok-1"});
  cfg.base_url = mock.url();
  Gbd gbd(dir, cfg);
  REQUIRE(generate(gbd).status == 200);
  REQUIRE(generate(gbd).status == 200);
  auto before = key_entry(dir, "invalid-a");
  REQUIRE(before.IsObject());
  REQUIRE(before["state"].GetString() == std::string("disabled"));
  RunResult table = gbctl(dir, {"keys", "status"});
  CHECK(table.out.find("disabled: ") != std::string::npos);

  mock.script("invalid-a", "ok");
  RunResult reset = gbctl(dir, {"keys", "reset", gb::key_id("invalid-a")});
  INFO(reset.out << reset.err);
  REQUIRE(reset.status == 0);
  CHECK(key_entry(dir, "invalid-a")["state"].GetString() == std::string("active"));
  mock.reset();
  mock.script("invalid-a", "ok");
  for (int i = 0; i < 4; ++i) {
    REQUIRE(generate(gbd).status == 200);
  }
  CHECK(mock.key_requests("invalid-a") == 2);
}

TEST_CASE("keys disable parks a key and keys enable brings it back", "[integration][gbctl]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig cfg = with_keys({"ok-alpha-0001", "ok-bravo-0002"});
  cfg.base_url = mock.url();
  Gbd gbd(dir, cfg);
  // By the mask as shown.
  std::string mask = gb::key_mask("ok-alpha-0001");
  RunResult off = gbctl(dir, {"keys", "disable", mask});
  INFO(mask << ": " << off.out << off.err);
  REQUIRE(off.status == 0);
  auto parked = key_entry(dir, "ok-alpha-0001");
  CHECK(parked["parked"].GetBool());
  CHECK(gbctl(dir, {"keys", "status"}).out.find("parked") != std::string::npos);
  for (int i = 0; i < 4; ++i) {
    REQUIRE(generate(gbd).status == 200);
  }
  CHECK(mock.key_requests("ok-alpha-0001") == 0);

  REQUIRE(gbctl(dir, {"keys", "enable", gb::key_id("ok-alpha-0001")}).status == 0);
  for (int i = 0; i < 4; ++i) {
    REQUIRE(generate(gbd).status == 200);
  }
  CHECK(mock.key_requests("ok-alpha-0001") == 2);

  // Unknown and ambiguous selectors change nothing.
  RunResult unknown = gbctl(dir, {"keys", "disable", "ffffffff"});
  CHECK(unknown.status == 1);
  CHECK(unknown.err.find("not_found") != std::string::npos);
  RunResult ambiguous = gbctl(dir, {"keys", "disable", "ok-"});
  CHECK(ambiguous.status == 1);
  CHECK(ambiguous.err.find("ambiguous_key") != std::string::npos);
  CHECK(key_entry(dir, "ok-bravo-0002")["state"].GetString() == std::string("active"));
}

TEST_CASE("logs tail shows past requests and follows new ones live", "[integration][gbctl]") {
  Rig rig;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(generate(rig.gbd).status == 200);
  }
  // The request log is written by the store thread; tail waits for it.
  RunResult two = gbctl(rig.dir, {"logs", "tail", "-n", "2"});
  INFO(two.out << two.err);
  REQUIRE(two.status == 0);
  std::istringstream lines(two.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    CHECK(line.find(" 200 gemini gemini-2.5-flash key=") != std::string::npos);
    CHECK(line.find("generateContent") != std::string::npos);
  }
  CHECK(n == 2);

  RunResult js = gbctl(rig.dir, {"--json", "logs", "tail", "-n", "5"});
  REQUIRE(js.status == 0);
  std::istringstream jl(js.out);
  n = 0;
  while (std::getline(jl, line)) {
    auto ev = json_of(line);
    CHECK(ev["status"].GetInt() == 200);
    CHECK(ev["route"].GetString() == std::string("generateContent"));
    ++n;
  }
  CHECK(n == 3);

  Process follow(rig.dir, "follow",
                 {GBCTL_PATH, "-s", rig.dir.file("gbd.sock"), "--json", "logs", "tail", "-f",
                  "-n", "0"});
  // The follower is registered once its (empty) history has been sent.
  std::this_thread::sleep_for(300ms);
  REQUIRE(rig.gbd.fetch("POST", "/v1beta/models/gemini-2.5-pro:generateContent",
                        {{"Content-Type", "application/json"}}, kPrompt)
              .status == 200);
  auto live = follow.wait_for_line(std::regex(R"("model":"gemini-2\.5-pro")"), 1s);
  INFO(follow.out_text() << follow.err_text());
  CHECK(live);
  CHECK(follow.running());
  // The follower leaving mid-stream costs gbd nothing.
  follow.stop();
  REQUIRE(generate(rig.gbd).status == 200);
  REQUIRE(gbctl(rig.dir, {"status"}).status == 0);
}

TEST_CASE("logs tail filters by errors, pool, model and key", "[integration][gbctl]") {
  Rig rig;
  REQUIRE(generate(rig.gbd).status == 200);
  REQUIRE(rig.gbd.fetch("POST", "/v1beta/models/no-such-model:generateContent",
                        {{"Content-Type", "application/json"}}, kPrompt)
              .status == 404);
  RunResult errors = gbctl(rig.dir, {"--json", "logs", "tail", "--errors"});
  INFO(errors.out << errors.err);
  REQUIRE(errors.status == 0);
  auto ev = json_of(errors.out.substr(0, errors.out.find('\n')));
  CHECK(ev["status"].GetInt() == 404);
  CHECK(errors.out.find('\n') == errors.out.size() - 1);  // one line
  RunResult model = gbctl(rig.dir, {"--json", "logs", "tail", "--model", "gemini-2.5-flash"});
  CHECK(json_of(model.out.substr(0, model.out.find('\n')))["status"].GetInt() == 200);
  RunResult none = gbctl(rig.dir, {"logs", "tail", "--pool", "other"});
  CHECK(none.status == 0);
  CHECK(none.out.empty());
}

TEST_CASE("stats sums requests, errors, latency and tokens per pool, key and model",
          "[integration][gbctl]") {
  Rig rig;
  for (int i = 0; i < 4; ++i) {
    REQUIRE(generate(rig.gbd).status == 200);
  }
  REQUIRE(rig.gbd.fetch("POST", "/v1beta/models/no-such-model:generateContent",
                        {{"Content-Type", "application/json"}}, kPrompt)
              .status == 404);
  RunResult js = gbctl(rig.dir, {"--json", "stats", "--since", "10m"});
  INFO(js.out << js.err);
  REQUIRE(js.status == 0);
  auto d = json_of(js.out);
  CHECK(d["total"]["requests"].GetInt() == 5);
  CHECK(d["total"]["ok"].GetInt() == 4);
  // The upstream's 404 is passed on: the class is gbd's code for it.
  CHECK(d["total"]["error_classes"]["upstream_status"].GetInt() == 1);
  CHECK(d["total"]["latency_ms"]["p50"].GetDouble() > 0);
  CHECK(d["total"]["tokens_in"].GetInt() > 0);
  CHECK(d["by_pool"][0]["name"].GetString() == std::string("gemini"));
  CHECK(d["by_key"].Size() >= 2);
  RunResult text = gbctl(rig.dir, {"stats"});
  REQUIRE(text.status == 0);
  CHECK(text.out.find("gemini-2.5-flash") != std::string::npos);
  CHECK(gbctl(rig.dir, {"stats", "--since", "soon"}).status == 2);
}

TEST_CASE("reload with a changed key list keeps the state of surviving keys",
          "[integration][gbctl]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig cfg = with_keys({"invalid-a", "ok-1", "ok-2"});
  cfg.base_url = mock.url();
  Gbd gbd(dir, cfg);
  REQUIRE(generate(gbd).status == 200);
  REQUIRE(key_entry(dir, "invalid-a")["state"].GetString() == std::string("disabled"));

  cfg.keys = {"invalid-a", "ok-1", "ok-3"};
  dir.write("gbd.toml", cfg.to_toml(dir));
  RunResult r = gbctl(dir, {"reload"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("reloaded ") != std::string::npos);
  CHECK(key_entry(dir, "invalid-a")["state"].GetString() == std::string("disabled"));
  CHECK(key_entry(dir, "ok-3")["state"].GetString() == std::string("active"));
  CHECK_FALSE(key_entry(dir, "ok-2").IsObject());
}

TEST_CASE("a bad reload is refused with every error and traffic goes on",
          "[integration][gbctl]") {
  Rig rig;
  rig.dir.write("gbd.toml",
                "[server]\nlisten = [\"127.0.0.1:0\"]\nworkers = \"two\"\n[limits]\nmax_body = "
                "\"huge\"\n");
  RunResult r = gbctl(rig.dir, {"reload"});
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  CHECK(r.err.find("config_invalid") != std::string::npos);
  CHECK(r.err.find("gbd.toml:3:") != std::string::npos);
  CHECK(r.err.find("gbd.toml:5:") != std::string::npos);
  RunResult js = gbctl(rig.dir, {"--json", "reload"});
  CHECK(js.status == 1);
  auto d = json_of(js.out);
  CHECK(d["error"]["code"].GetString() == std::string("config_invalid"));
  CHECK(d["error"]["details"].Size() >= 2);
  CHECK(generate(rig.gbd).status == 200);
}

TEST_CASE("reload opens new listen addresses and closes removed ones after their requests",
          "[integration][gbctl]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig cfg;
  cfg.base_url = mock.url();
  Gbd gbd(dir, cfg);
  uint16_t old_port = gbd.port();
  uint16_t new_port = closed_port();
  cfg.listen = {"127.0.0.1:0", "127.0.0.1:" + std::to_string(new_port)};
  dir.write("gbd.toml", cfg.to_toml(dir));
  RunResult r = gbctl(dir, {"reload"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("listening on 127.0.0.1:" + std::to_string(new_port)) != std::string::npos);
  CHECK(fetch(new_port, "GET", "/health").status == 200);

  // A stream in flight on the old address runs to its end after the address is dropped.
  HttpClient streaming(old_port, 10s);
  REQUIRE(streaming.send(http_request(
      "POST", model_path("streamGenerateContent?alt=sse"),
      {{"Authorization", "Bearer " + std::string(kToken)},
       {"Content-Type", "application/json"},
       {"x-mock-chunks", "10"},
       {"x-mock-delay-ms", "100"}},
      kPrompt)));
  Response head = streaming.read_head();
  REQUIRE(head.status == 200);
  cfg.listen = {"127.0.0.1:" + std::to_string(new_port)};
  dir.write("gbd.toml", cfg.to_toml(dir));
  RunResult drop = gbctl(dir, {"--json", "reload"});
  REQUIRE(drop.status == 0);
  CHECK(json_of(drop.out)["closed"][0].GetString() == "127.0.0.1:" + std::to_string(old_port));
  std::string body;
  for (std::string piece; !(piece = streaming.read_body(65536)).empty();) {
    body += piece;
  }
  CHECK(streaming.message_done());
  CHECK(body.find("finishReason") != std::string::npos);
  CHECK(fetch(old_port, "GET", "/health", {}, {}, 1s).status == 0);
  CHECK(fetch(new_port, "GET", "/health").status == 200);
}

TEST_CASE("every gbctl command answers in JSON", "[integration][gbctl]") {
  Rig rig;
  REQUIRE(generate(rig.gbd).status == 200);
  std::string id = gb::key_id("ok-1");
  std::vector<std::vector<std::string>> commands = {
      {"status"},
      {"keys", "status"},
      {"keys", "list", "gemini"},
      {"keys", "add", "ok-json"},
      {"keys", "disable", id},
      {"keys", "enable", id},
      {"keys", "reset", id},
      {"keys", "reset", "--all"},
      {"keys", "remove", gb::key_id("ok-json")},
      {"reload"},
      {"stats"},
  };
  for (auto& c : commands) {
    c.insert(c.begin(), "--json");
    RunResult r = gbctl(rig.dir, c);
    INFO(c[1] << " " << (c.size() > 2 ? c[2] : "") << ": " << r.out << r.err);
    CHECK(r.status == 0);
    CHECK(json_of(r.out).IsObject());
  }
  RunResult tail = gbctl(rig.dir, {"--json", "logs", "tail", "-n", "1"});
  CHECK(tail.status == 0);
  CHECK(json_of(tail.out).IsObject());
}

TEST_CASE("gbctl exit statuses: usage 2, refused 1, unreachable 3", "[integration][gbctl]") {
  TempDir dir;
  RunResult none = gbctl(dir, {"status"});
  CHECK(none.status == 3);
  CHECK(none.err.find("cannot connect") != std::string::npos);
  CHECK(gbctl(dir, {}).status == 2);
  CHECK(gbctl(dir, {"keys", "frobnicate"}).status == 2);
  CHECK(gbctl(dir, {"keys", "reset"}).status == 2);
  CHECK(gbctl(dir, {"help"}).status == 0);
  CHECK(gbctl(dir, {"--version"}).out.find(GB_VERSION) != std::string::npos);
  Rig rig;
  CHECK(gbctl(rig.dir, {"keys", "remove", "nothing-like-it"}).status == 1);
}

TEST_CASE("a peer that is not allowed is refused", "[integration][gbctl]") {
  if (geteuid() != 0) {
    WARN("needs root to run gbctl as another uid; skipped");
    return;
  }
  Rig rig;
  std::string sock = rig.dir.file("gbd.sock");
  REQUIRE(chmod(rig.dir.path().c_str(), 0711) == 0);
  auto as_nobody = [&] {
    return run(rig.dir, {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                         GBCTL_PATH, "-s", sock, "status"});
  };
  // The socket's mode keeps others out at connect().
  RunResult denied = as_nobody();
  INFO(denied.out << denied.err);
  CHECK(denied.status == 3);
  CHECK(denied.err.find("permission denied") != std::string::npos);
  // With the mode opened up, gbd's own check (SO_PEERCRED) refuses.
  REQUIRE(chmod(sock.c_str(), 0666) == 0);
  RunResult refused = as_nobody();
  INFO(refused.out << refused.err);
  CHECK(refused.status == 1);
  CHECK(refused.err.find("permission_denied") != std::string::npos);
  CHECK(rig.gbd.log_text().find("ev=ctl.refused uid=65534") != std::string::npos);
  CHECK(gbctl(rig.dir, {"status"}).status == 0);
}
