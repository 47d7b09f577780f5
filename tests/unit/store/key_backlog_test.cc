#include "store/key_backlog.h"

#include <catch2/catch.hpp>

using gb::pool::KeyChange;
using gb::pool::KeyRecord;
using gb::store::KeyBacklog;

namespace {

KeyChange change(std::string pool, std::string hash, uint64_t requests, bool removed = false) {
  KeyRecord r;
  r.pool = std::move(pool);
  r.hash = std::move(hash);
  r.requests = requests;
  return KeyChange{std::move(r), removed};
}

}  // namespace

TEST_CASE("the backlog keeps the latest change of each key", "[store]") {
  KeyBacklog b;
  CHECK(b.empty());
  b.add(change("p", "h1", 1));
  b.add(change("p", "h2", 1));
  b.add(change("p", "h1", 2));
  b.add(change("q", "h1", 3));
  REQUIRE(b.size() == 3);
  CHECK(b.changes().at({"p", "h1"}).record.requests == 2);
  b.add(change("p", "h1", 0, true));
  CHECK(b.changes().at({"p", "h1"}).removed);
  CHECK(b.size() == 3);
  b.clear();
  CHECK(b.empty());
}

TEST_CASE("forgetting a pool drops its older changes and only its own", "[store]") {
  KeyBacklog b;
  b.add(change("a", "h1", 1));
  b.add(change("a", "h2", 1));
  b.add(change("ab", "h1", 1));
  b.add(change("", "h1", 1));
  b.forget_pool("a");
  CHECK(b.forgotten() == std::set<std::string>{"a"});
  REQUIRE(b.changes().size() == 2);
  CHECK(b.changes().count({"ab", "h1"}) == 1);
  CHECK(b.changes().count({"", "h1"}) == 1);
  b.add(change("a", "h3", 1));  // the pool came back: this change is newer
  CHECK(b.changes().count({"a", "h3"}) == 1);
  CHECK(b.size() == 4);
}
