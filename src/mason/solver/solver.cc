// Kahn's algorithm over worker threads: a job becomes ready when its last
// dependency finishes; N workers take ready jobs from a queue. A failure
// sets the cancel token and closes the queue; workers drain and exit.
#include "mason/solver/solver.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

namespace mason::solver {
namespace {

util::Status check_graph(const std::vector<Job>& jobs) {
  std::vector<int> state(jobs.size(), 0); // 0 new, 1 on stack, 2 done
  std::function<util::Status(std::size_t)> visit = [&](std::size_t i) -> util::Status {
    if (state[i] == 2) return {};
    if (state[i] == 1)
      return util::make_error(util::ErrorCode::invalid_argument,
                              fmt::format("dependency cycle through \"{}\"", jobs[i].name));
    state[i] = 1;
    for (auto d : jobs[i].deps) {
      if (d >= jobs.size())
        return util::make_error(
            util::ErrorCode::invalid_argument,
            fmt::format("job \"{}\" depends on unknown job {}", jobs[i].name, d));
      if (auto r = visit(d); !r) return r;
    }
    state[i] = 2;
    return {};
  };
  for (std::size_t i = 0; i < jobs.size(); ++i)
    if (auto r = visit(i); !r) return r;
  return {};
}

class Run {
public:
  Run(const std::vector<Job>& jobs, CancelToken& cancel)
      : m_jobs(jobs), m_cancel(cancel), m_waiting(jobs.size()), m_dependents(jobs.size()) {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      m_waiting[i] = jobs[i].deps.size();
      for (auto d : jobs[i].deps) m_dependents[d].push_back(i);
      if (m_waiting[i] == 0) m_ready.push_back(i);
    }
  }

  util::Status go(std::size_t workers) {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < workers; ++i) threads.emplace_back([this] { work(); });
    threads.clear(); // joins
    if (m_error) return std::unexpected(*m_error);
    return {};
  }

private:
  void work() {
    for (;;) {
      std::size_t job = 0;
      {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return !m_ready.empty() || finished(); });
        if (finished()) return;
        job = m_ready.front();
        m_ready.pop_front();
        ++m_running;
      }
      auto status = m_cancel.cancelled()
                        ? util::Status(util::make_error(util::ErrorCode::cancelled, "cancelled"))
                        : m_jobs[job].run(m_cancel);
      complete(job, std::move(status));
    }
  }

  bool finished() const {
    return m_done == m_jobs.size() || m_error.has_value() || (m_ready.empty() && m_running == 0);
  }

  void complete(std::size_t job, util::Status status) {
    std::lock_guard lock(m_mutex);
    --m_running;
    ++m_done;
    if (!status) {
      if (!m_error) m_error = std::move(status.error());
      m_cancel.cancel();
      m_ready.clear();
    } else if (!m_error) {
      for (auto d : m_dependents[job])
        if (--m_waiting[d] == 0) m_ready.push_back(d);
    }
    m_cv.notify_all();
  }

  const std::vector<Job>& m_jobs;
  CancelToken& m_cancel;
  std::vector<std::size_t> m_waiting;
  std::vector<std::vector<std::size_t>> m_dependents;
  std::deque<std::size_t> m_ready;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::size_t m_running = 0;
  std::size_t m_done = 0;
  std::optional<util::Error> m_error;
};

} // namespace

util::Status solve(const std::vector<Job>& jobs, const SolveOptions& options, CancelToken& cancel) {
  if (auto r = check_graph(jobs); !r) return r;
  if (jobs.empty()) return {};
  std::size_t workers = options.jobs ? options.jobs : std::thread::hardware_concurrency();
  workers = std::max<std::size_t>(1, std::min(workers, jobs.size()));
  return Run(jobs, cancel).go(workers);
}

} // namespace mason::solver
