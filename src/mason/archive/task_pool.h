// A small fixed pool of worker threads running queued tasks in FIFO order.
// Internal to mason::archive (parallel gzip). The destructor finishes the
// queued tasks and joins the workers. submit() and the futures are
// thread-safe; tasks must not throw.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace mason::archive::detail {

class TaskPool {
public:
  explicit TaskPool(unsigned threads);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  std::future<void> submit(std::function<void()> task);

private:
  void run();

  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::deque<std::packaged_task<void()>> m_queue;
  bool m_stop = false;
  std::vector<std::thread> m_workers;
};

} // namespace mason::archive::detail
