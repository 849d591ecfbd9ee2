// Running a helper binary (the OCI runtime) with its output streamed.
//
// Ownership: a spawned child is always reaped: run_streamed waits for it,
// and on an internal failure it is killed (SIGKILL) and reaped before the
// error is returned. Thread-safety: free functions without shared state;
// safe to call from several threads at once (posix_spawn, all descriptors
// O_CLOEXEC until dup'ed onto the child's 0/1/2).
#pragma once

#include <string>
#include <vector>

#include "mason/executor/executor.h"
#include "mason/util/error.h"

namespace mason::executor {

enum class ChildStdin { null, inherit };

// Runs `argv` (argv[0] an absolute path) with all signals at their default
// disposition and none blocked, stdout and stderr on two pipes delivered to
// `sink` as chunks arrive (on the calling thread), until the child exits.
// Returns its exit code (128+N when killed by signal N). Output written
// after the child's exit by descendants it left behind is not waited for.
// Errors: not_found/unauthorized when argv[0] cannot be executed.
util::Result<int> run_streamed(const std::vector<std::string>& argv, ChildStdin in,
                               const OutputSink& sink);

// The same with all three standard streams on /dev/null.
util::Result<int> run_quiet(const std::vector<std::string>& argv);

} // namespace mason::executor
