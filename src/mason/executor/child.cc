// Child processes: posix_spawn with dup'ed pipes, then one poll loop.
//
// The loop polls the two pipe read ends (non-blocking) and a pidfd of the
// child. Each readable pipe gets one read per round (fair between the
// streams, so neither pipe can fill up while the other is drained). When
// the pidfd reports the exit, whatever is left in the pipes is drained
// until EOF or EAGAIN and the child is reaped; waiting for EOF alone could
// hang on a descendant that kept the pipe open.
#include "mason/executor/child.h"

#include <array>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

#include "mason/sys/errors.h"
#include "mason/sys/unique_fd.h"

extern char** environ;

namespace mason::executor {

namespace {

using sys::UniqueFd;

constexpr std::size_t k_chunk = std::size_t{64} * 1024;

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

util::Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys::errno_error("pipe2", errno);
  Pipe p{UniqueFd(fds[0]), UniqueFd(fds[1])};
  if (::fcntl(p.read.get(), F_SETFL, O_NONBLOCK) != 0)
    return sys::errno_error("fcntl O_NONBLOCK", errno);
  return p;
}

// The spawned process; killed and reaped on destruction unless waited.
class Child {
public:
  explicit Child(pid_t pid)
      : m_pid(pid), m_pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))) {}
  Child(Child&& other) noexcept
      : m_pid(std::exchange(other.m_pid, -1)), m_pidfd(std::move(other.m_pidfd)) {}
  Child& operator=(Child&&) = delete;
  ~Child() {
    if (m_pid <= 0) return;
    ::kill(m_pid, SIGKILL);
    static_cast<void>(wait());
  }
  int pidfd() const { return m_pidfd.get(); } // -1 without pidfd support

  // Reaps the child: its exit code, or 128+signal.
  util::Result<int> wait() {
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0) {
      if (errno != EINTR) return sys::errno_error("waitpid", errno);
    }
    m_pid = -1;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  }

private:
  pid_t m_pid;
  UniqueFd m_pidfd;
};

class SpawnSetup {
public:
  SpawnSetup() {
    ::posix_spawn_file_actions_init(&m_actions);
    ::posix_spawnattr_init(&m_attr);
    sigset_t none;
    sigset_t all;
    ::sigemptyset(&none);
    ::sigfillset(&all);
    ::sigdelset(&all, SIGKILL);
    ::sigdelset(&all, SIGSTOP);
    ::posix_spawnattr_setsigmask(&m_attr, &none);
    ::posix_spawnattr_setsigdefault(&m_attr, &all);
    ::posix_spawnattr_setflags(&m_attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  ~SpawnSetup() {
    ::posix_spawn_file_actions_destroy(&m_actions);
    ::posix_spawnattr_destroy(&m_attr);
  }
  void redirect(int fd, int target) { ::posix_spawn_file_actions_adddup2(&m_actions, fd, target); }

  util::Result<Child> spawn(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, args[0], &m_actions, &m_attr, args.data(), environ);
    if (rc != 0) return sys::errno_error("execute " + sys::quote(argv[0]), rc);
    return Child(pid);
  }

private:
  posix_spawn_file_actions_t m_actions;
  posix_spawnattr_t m_attr;
};

util::Result<UniqueFd> open_dev_null(int flags) {
  UniqueFd fd(::open("/dev/null", flags | O_CLOEXEC));
  if (!fd) return sys::errno_error("open /dev/null", errno);
  return fd;
}

// Reads the two pipes into the sink until the child exits.
class OutputPump {
public:
  OutputPump(UniqueFd out, UniqueFd err, const OutputSink& sink)
      : m_fds{std::move(out), std::move(err)}, m_sink(sink) {}

  util::Status run(int pidfd) {
    bool exited = pidfd < 0; // without a pidfd: read to EOF
    while (m_fds[0] || m_fds[1] || !exited) {
      if (exited && pidfd >= 0) return drain_all();
      std::array<pollfd, 3> fds{};
      nfds_t n = 0;
      for (const auto& fd : m_fds) fds[n++] = {fd.get(), POLLIN, 0}; // -1 is ignored
      if (!exited) fds[n++] = {pidfd, POLLIN, 0};
      if (::poll(fds.data(), n, -1) < 0) {
        if (errno == EINTR) continue;
        return sys::errno_error("poll child output", errno);
      }
      for (std::size_t i = 0; i < 2; ++i) {
        if (fds[i].revents != 0 && !read_once(i)) m_fds[i].reset();
      }
      if (!exited && fds[2].revents != 0) exited = true;
    }
    return {};
  }

private:
  // One read; false on EOF or a read error (the stream is done).
  bool read_once(std::size_t i) {
    ssize_t n = ::read(m_fds[i].get(), m_buffer.data(), m_buffer.size());
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) return false;
    const auto stream = i == 0 ? OutputStream::out : OutputStream::err;
    m_sink(stream, std::string_view(m_buffer.data(), static_cast<std::size_t>(n)));
    return true;
  }

  // After the exit: everything already in the pipes, without waiting.
  util::Status drain_all() {
    for (std::size_t i = 0; i < 2; ++i) {
      while (m_fds[i]) {
        ssize_t n = ::read(m_fds[i].get(), m_buffer.data(), m_buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        const auto stream = i == 0 ? OutputStream::out : OutputStream::err;
        m_sink(stream, std::string_view(m_buffer.data(), static_cast<std::size_t>(n)));
      }
      m_fds[i].reset();
    }
    return {};
  }

  std::array<UniqueFd, 2> m_fds;
  const OutputSink& m_sink;
  std::array<char, k_chunk> m_buffer{};
};

} // namespace

util::Result<int> run_streamed(const std::vector<std::string>& argv, ChildStdin in,
                               const OutputSink& sink) {
  MASON_TRY_ASSIGN(auto out, make_pipe());
  MASON_TRY_ASSIGN(auto err, make_pipe());
  SpawnSetup setup;
  UniqueFd null_in;
  if (in == ChildStdin::null) {
    MASON_TRY_ASSIGN(auto fd, open_dev_null(O_RDONLY));
    null_in = std::move(fd);
    setup.redirect(null_in.get(), 0);
  }
  setup.redirect(out.write.get(), 1);
  setup.redirect(err.write.get(), 2);
  MASON_TRY_ASSIGN(auto child, setup.spawn(argv));
  out.write.reset();
  err.write.reset();
  OutputPump pump(std::move(out.read), std::move(err.read), sink);
  MASON_TRY(pump.run(child.pidfd()));
  return child.wait();
}

util::Result<int> run_quiet(const std::vector<std::string>& argv) {
  MASON_TRY_ASSIGN(auto null_fd, open_dev_null(O_RDWR));
  SpawnSetup setup;
  for (int target = 0; target < 3; ++target) setup.redirect(null_fd.get(), target);
  MASON_TRY_ASSIGN(auto child, setup.spawn(argv));
  return child.wait();
}

} // namespace mason::executor
