// Mailbox: runs functions on one loop's thread, posted from any thread.
//
// The key pool hands a freed key to a waiting request on whatever thread freed it; the
// request belongs to another worker's loop, so the hand-over travels through that
// loop's mailbox. The async handle is unreferenced: a mailbox alone never keeps a loop
// running (whoever waits for a post keeps its own handle active).
#pragma once

#include <uv.h>

#include <functional>
#include <mutex>
#include <vector>

namespace gb::uv {

class Mailbox {
 public:
  explicit Mailbox(uv_loop_t* loop);
  ~Mailbox();  // on the loop's thread; drops what was never run
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // Any thread. False once the mailbox is closed: the function will never run.
  bool post(std::function<void()> fn);
  // Loop thread: no more posts are accepted; the handle closes.
  void close();

 private:
  static void on_async(uv_async_t* a);
  void run_posted();

  std::mutex mu_;
  bool closed_ = false;
  uv_async_t* async_;
  std::vector<std::function<void()>> posted_;
};

}  // namespace gb::uv
