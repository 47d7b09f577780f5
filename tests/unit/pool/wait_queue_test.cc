#include "pool/wait_queue.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "pool/key_pool.h"  // Lease, which a Waiter is handed

using gb::pool::Waiter;
using gb::pool::WaitQueue;

namespace {

std::shared_ptr<Waiter> waiter(std::string token, std::string name) {
  auto w = std::make_shared<Waiter>();
  w->token = std::move(token);
  w->model = std::move(name);  // the model field doubles as a label here
  return w;
}

std::vector<std::string> drain(WaitQueue& q) {
  std::vector<std::string> out;
  while (auto w = q.pop()) {
    CHECK_FALSE(w->queued);
    out.push_back(w->model);
  }
  CHECK(q.empty());
  CHECK(q.size() == 0);
  return out;
}

}  // namespace

TEST_CASE("wait queue: round robin across tokens, FIFO within one", "[pool]") {
  WaitQueue q;
  CHECK(q.empty());
  CHECK(q.pop() == nullptr);
  for (const char* name : {"a1", "a2", "a3", "a4"}) {
    q.push(waiter("A", name));
  }
  q.push(waiter("B", "b1"));
  q.push(waiter("C", "c1"));
  q.push(waiter("B", "b2"));
  CHECK(q.size() == 7);
  CHECK(drain(q) == std::vector<std::string>{"a1", "b1", "c1", "a2", "b2", "a3", "a4"});
}

TEST_CASE("wait queue: a token that comes back waits for the others' turn", "[pool]") {
  WaitQueue q;
  q.push(waiter("A", "a1"));
  q.push(waiter("B", "b1"));
  CHECK(q.pop()->model == "a1");
  q.push(waiter("A", "a2"));  // A's queue was empty: it goes to the back of the turns
  q.push(waiter("C", "c1"));
  CHECK(drain(q) == std::vector<std::string>{"b1", "a2", "c1"});
}

TEST_CASE("wait queue: remove takes a waiter out wherever it is", "[pool]") {
  WaitQueue q;
  auto a1 = waiter("A", "a1");
  auto a2 = waiter("A", "a2");
  auto b1 = waiter("B", "b1");
  auto c1 = waiter("C", "c1");
  for (const auto& w : {a1, a2, b1, c1}) {
    q.push(w);
    CHECK(w->queued);
  }
  CHECK(q.remove(a2));
  CHECK_FALSE(a2->queued);
  CHECK_FALSE(q.remove(a2));  // not there any more
  CHECK(q.remove(b1));        // B's only waiter: B loses its turn
  CHECK(q.size() == 2);
  auto stranger = waiter("A", "x");
  CHECK_FALSE(q.remove(stranger));
  CHECK(drain(q) == std::vector<std::string>{"a1", "c1"});
  CHECK_FALSE(q.remove(a1));  // served: nothing to remove
}

TEST_CASE("wait queue: random pushes, pops and removes keep the fairness rule", "[pool]") {
  // The model: per token a FIFO, and a ring of tokens with waiters in turn order.
  std::mt19937_64 rng(3);
  WaitQueue q;
  std::vector<std::shared_ptr<Waiter>> queued;  // for picking what to remove
  std::map<std::string, std::deque<std::shared_ptr<Waiter>>> fifo;
  std::deque<std::string> turns;
  int serial = 0;
  for (int step = 0; step < 3000; ++step) {
    int op = std::uniform_int_distribution<int>(0, 9)(rng);
    INFO("step " << step << " op " << op);
    if (op < 5) {
      std::string token(1, static_cast<char>('A' + std::uniform_int_distribution<int>(0, 4)(rng)));
      auto w = waiter(token, std::to_string(serial++));
      if (fifo[token].empty()) {
        turns.push_back(token);
      }
      fifo[token].push_back(w);
      queued.push_back(w);
      q.push(w);
    } else if (op < 8) {
      auto w = q.pop();
      if (turns.empty()) {
        REQUIRE(w == nullptr);
        continue;
      }
      std::string token = turns.front();
      turns.pop_front();
      REQUIRE(w == fifo[token].front());
      fifo[token].pop_front();
      if (!fifo[token].empty()) {
        turns.push_back(token);
      }
      queued.erase(std::find(queued.begin(), queued.end(), w));
    } else if (!queued.empty()) {
      size_t k = std::uniform_int_distribution<size_t>(0, queued.size() - 1)(rng);
      auto w = queued[k];
      queued.erase(queued.begin() + static_cast<std::ptrdiff_t>(k));
      REQUIRE(q.remove(w));
      auto& f = fifo[w->token];
      f.erase(std::find(f.begin(), f.end(), w));
      if (f.empty()) {
        turns.erase(std::find(turns.begin(), turns.end(), w->token));
      }
    }
    REQUIRE(q.size() == queued.size());
  }
}
