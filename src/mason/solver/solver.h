// The scheduler: runs a graph of jobs, each after the jobs it depends on,
// independent ones at the same time (at most `jobs` at once).
//
// Generic: a job is a name, its dependencies (indexes of earlier or later
// jobs) and a function. The solver knows nothing of Dockerfiles, snapshots
// or runc; it can be tested with toy jobs.
//
// Failure: the first job to fail stops the solve: no job starts after it,
// running jobs see CancelToken::cancelled() and are waited for, and the
// first error is returned. A dependency cycle or an index out of range is
// invalid_argument before anything runs.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "mason/util/error.h"

namespace mason::solver {

class CancelToken {
public:
  bool cancelled() const { return m_cancelled.load(std::memory_order_relaxed); }
  void cancel() { m_cancelled.store(true, std::memory_order_relaxed); }

private:
  std::atomic<bool> m_cancelled{false};
};

struct Job {
  std::string name;
  std::vector<std::size_t> deps;
  std::function<util::Status(const CancelToken&)> run;
};

struct SolveOptions {
  std::size_t jobs = 0; // 0: the number of cores
};

// Runs every job once. Thread-safety: the jobs' functions run on worker
// threads; they must synchronise what they share.
util::Status solve(const std::vector<Job>& jobs, const SolveOptions& options, CancelToken& cancel);

} // namespace mason::solver
