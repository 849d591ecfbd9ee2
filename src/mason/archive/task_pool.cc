// Worker threads waiting on one condition variable for a FIFO of tasks.
#include "mason/archive/task_pool.h"

namespace mason::archive::detail {

TaskPool::TaskPool(unsigned threads) {
  m_workers.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) m_workers.emplace_back([this] { run(); });
}

TaskPool::~TaskPool() {
  {
    const std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  for (auto& w : m_workers) w.join();
}

std::future<void> TaskPool::submit(std::function<void()> task) {
  std::packaged_task<void()> job(std::move(task));
  auto done = job.get_future();
  {
    const std::lock_guard lock(m_mutex);
    m_queue.push_back(std::move(job));
  }
  m_wake.notify_one();
  return done;
}

void TaskPool::run() {
  for (;;) {
    std::packaged_task<void()> job;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [this] { return m_stop || !m_queue.empty(); });
      if (m_queue.empty()) return; // stopping, nothing left
      job = std::move(m_queue.front());
      m_queue.pop_front();
    }
    job();
  }
}

} // namespace mason::archive::detail
