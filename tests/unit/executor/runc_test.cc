// Real runs with runc as root in a tiny busybox root filesystem.
//
// Skipped when not root or when runc is missing (a missing runc fails
// instead when $CI is set). Every test uses its own state directory and
// checks in TearDown that no bundle or runtime state is left behind.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "mason/executor/executor.h"
#include "mason/sys/temp_dir.h"

using namespace mason;
using namespace mason::executor;

namespace {

namespace fs = std::filesystem;

constexpr const char* k_busybox = "/bin/busybox";
constexpr std::array k_applets = {"sh",    "cat",  "echo", "id",    "hostname", "ls",
                                  "sleep", "grep", "head", "yes",   "wc",       "touch",
                                  "pwd",   "test", "kill", "mkdir", "printf"};

struct Output {
  std::string out;
  std::string err;
  OutputSink sink() {
    return [this](OutputStream s, std::string_view chunk) {
      (s == OutputStream::out ? out : err).append(chunk);
    };
  }
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) names.insert(e.path().filename());
  return names;
}

// Interface names listed in a /proc/net/dev text.
std::set<std::string> interfaces(const std::string& proc_net_dev) {
  std::set<std::string> names;
  std::istringstream in(proc_net_dev);
  std::string line;
  for (int n = 0; std::getline(in, line); ++n) {
    const auto colon = line.find(':');
    if (n < 2 || colon == std::string::npos) continue;
    const auto start = line.find_first_not_of(' ');
    names.insert(line.substr(start, colon - start));
  }
  return names;
}

// SIGKILLs, from the host, the first process whose command line (NUL-
// separated) satisfies `match`, once it shows up (within 5 s). Returns
// whether one was killed.
using ProcessMatch = std::function<bool(const std::string& pid, const std::string&)>;

// The pid of the first process `match` accepts, waiting up to 5 s; "" if none.
std::string wait_seen(const ProcessMatch& match) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
      const std::string pid = e.path().filename();
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      if (match(pid, read_text("/proc/" + pid + "/cmdline"))) return pid;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "";
}

bool kill_when_seen(const ProcessMatch& match) {
  const auto pid = wait_seen(match);
  return !pid.empty() && ::kill(std::stoi(pid), SIGKILL) == 0;
}

// The process running exactly `cmdline` in another pid namespace (the
// container's).
std::function<bool(const std::string&, const std::string&)> in_container(std::string cmdline) {
  return [cmdline = std::move(cmdline)](const std::string& pid, const std::string& text) {
    std::error_code ec;
    return text == cmdline && fs::read_symlink("/proc/" + pid + "/ns/pid", ec) !=
                                  fs::read_symlink("/proc/self/ns/pid", ec);
  };
}

class Runc : public ::testing::Test {
protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto tmp = sys::TempDir::create("mason-executor-test-");
    ASSERT_TRUE(tmp) << tmp.error().to_string();
    m_tmp.emplace(std::move(*tmp));
    auto executor = make_runtime_executor({.runtime = "runc", .state_dir = path("state")});
    if (!executor) {
      ASSERT_EQ(executor.error().code(), util::ErrorCode::not_found);
      if (std::getenv("CI") != nullptr) FAIL() << executor.error().to_string();
      GTEST_SKIP() << executor.error().to_string();
    }
    m_executor = std::move(*executor);
    make_busybox_root(root());
  }

  void TearDown() override {
    if (!m_executor) return;
    EXPECT_EQ(names_in(path("state/bundles")), std::set<std::string>{});
    EXPECT_EQ(names_in(path("state/runc")), std::set<std::string>{});
  }

  std::string path(const std::string& rel) const { return m_tmp->path() + "/" + rel; }
  std::string root() const { return path("root"); }

  static void make_busybox_root(const std::string& dir) {
    fs::create_directories(dir + "/bin");
    fs::copy_file(k_busybox, dir + "/bin/busybox");
    for (const char* applet : k_applets) fs::create_symlink("busybox", dir + "/bin/" + applet);
  }

  RunSpec spec_for(std::vector<std::string> args) const {
    RunSpec spec;
    spec.rootfs = root();
    spec.process.args = std::move(args);
    spec.process.env = {"PATH=/bin"};
    spec.hostname = "mason-test";
    return spec;
  }

  // Runs `sh -c script`; expects success of the run itself.
  RunResult run_sh(const std::string& script, Output& output) {
    return run_spec(spec_for({"sh", "-c", script}), output);
  }

  RunResult run_spec(const RunSpec& spec, Output& output) {
    auto result = m_executor->run(spec, output.sink());
    EXPECT_TRUE(result) << result.error().to_string();
    return result.value_or(RunResult{-1});
  }

  std::optional<sys::TempDir> m_tmp;
  std::unique_ptr<Executor> m_executor;
};

} // namespace

TEST_F(Runc, StdoutAndStderrSeparately) {
  Output o;
  EXPECT_EQ(run_sh("echo out; echo err >&2; echo out2", o).exit_code, 0);
  EXPECT_EQ(o.out, "out\nout2\n");
  EXPECT_EQ(o.err, "err\n");
}

TEST_F(Runc, LargeOutputOnBothStreams) {
  Output o;
  const auto r = run_sh("(yes 0123456789abcdef | head -c 6000000) & "
                        "yes e | head -c 3000000 >&2; wait",
                        o);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(o.out.size(), 6000000u);
  EXPECT_EQ(o.err.size(), 3000000u);
  EXPECT_EQ(o.out.substr(0, 17), "0123456789abcdef\n");
}

TEST_F(Runc, ExitCode) {
  Output o;
  EXPECT_EQ(run_sh("exit 3", o).exit_code, 3);
}

TEST_F(Runc, KilledBySignal) {
  bool killed = false;
  std::thread killer([&] {
    killed = kill_when_seen(in_container({"sleep\0"
                                          "31.4159\0",
                                          14}));
  });
  Output o;
  const auto r = run_spec(spec_for({"sleep", "31.4159"}), o);
  killer.join();
  EXPECT_TRUE(killed);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
}

// The runtime dies while its container runs: the run returns (without
// waiting for the container's output to end) and `delete --force` removes
// the container; TearDown checks that no state is left.
TEST_F(Runc, RuntimeKilledMidRunIsCleanedUp) {
  const std::string state_root = path("state/runc");
  bool killed = false;
  std::thread killer([&] {
    // the container is running (its process is not touched) ...
    if (wait_seen(in_container({"sleep\0"
                                "27.1828\0",
                                14}))
            .empty())
      return;
    // ... then the runtime dies
    killed = kill_when_seen([&](const std::string&, const std::string& text) {
      return text.find(std::string("--root\0", 7) + state_root + '\0') != std::string::npos &&
             text.find(std::string("\0run\0", 5)) != std::string::npos;
    });
  });
  Output o;
  const auto started = std::chrono::steady_clock::now();
  const auto r = run_spec(spec_for({"sleep", "27.1828"}), o);
  killer.join();
  EXPECT_TRUE(killed);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(names_in(root()), std::set<std::string>{"bin"});
}

TEST_F(Runc, StdinIsDevNull) {
  Output o;
  EXPECT_EQ(run_spec(spec_for({"cat"}), o).exit_code, 0);
  EXPECT_EQ(o.out, "");
}

TEST_F(Runc, EnvAndMissingCwdCreated) {
  RunSpec spec = spec_for({"sh", "-c", "echo $FOO; pwd"});
  spec.process.env.push_back("FOO=bar baz");
  spec.process.cwd = "/work/dir";
  Output o;
  EXPECT_EQ(run_spec(spec, o).exit_code, 0);
  EXPECT_EQ(o.out, "bar baz\n/work/dir\n");
  struct stat st {};
  ASSERT_EQ(::stat((root() + "/work/dir").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

TEST_F(Runc, UserAndGroups) {
  RunSpec spec = spec_for({"sh", "-c", "id -u; id -g; id -G; touch x && echo writable"});
  spec.process.uid = 1000;
  spec.process.gid = 1001;
  spec.process.additional_gids = {10, 20};
  spec.process.cwd = "/home/user";
  Output o;
  EXPECT_EQ(run_spec(spec, o).exit_code, 0);
  EXPECT_EQ(o.out, "1000\n1001\n1001 10 20\nwritable\n") << o.err;
  struct stat st {};
  ASSERT_EQ(::stat((root() + "/home/user/x").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  ASSERT_EQ(::stat((root() + "/home").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
}

TEST_F(Runc, Hostname) {
  Output o;
  EXPECT_EQ(run_spec(spec_for({"hostname"}), o).exit_code, 0);
  EXPECT_EQ(o.out, "mason-test\n");
}

TEST_F(Runc, NetworkNoneHasOnlyLoopback) {
  RunSpec spec = spec_for({"cat", "/proc/net/dev"});
  spec.network = NetworkMode::none;
  Output o;
  EXPECT_EQ(run_spec(spec, o).exit_code, 0);
  EXPECT_EQ(interfaces(o.out), std::set<std::string>{"lo"});
}

TEST_F(Runc, NetworkHostSeesHostInterfaces) {
  Output o;
  EXPECT_EQ(run_spec(spec_for({"cat", "/proc/net/dev"}), o).exit_code, 0);
  EXPECT_EQ(interfaces(o.out), interfaces(read_text("/proc/net/dev")));
}

TEST_F(Runc, SysIsReadOnly) {
  Output o;
  run_sh("grep ' /sys ' /proc/mounts; touch /sys/kernel/mason 2>/dev/null || echo refused", o);
  EXPECT_NE(o.out.find("sysfs /sys sysfs ro,"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("refused\n"), std::string::npos) << o.out;
}

TEST_F(Runc, DockerDefaultCapabilities) {
  Output o;
  EXPECT_EQ(run_spec(spec_for({"grep", "CapEff", "/proc/self/status"}), o).exit_code, 0);
  EXPECT_EQ(o.out, "CapEff:\t00000000a80425fb\n");
}

TEST_F(Runc, BindAndTmpfsMounts) {
  fs::create_directories(path("host-data"));
  std::ofstream(path("host-data/file.txt")) << "from host\n";
  RunSpec spec =
      spec_for({"sh", "-c",
                "cat /mnt/data/file.txt; touch /mnt/data/new 2>/dev/null || echo ro; "
                "grep ' /scratch ' /proc/mounts; echo x > /scratch/f && cat /scratch/f"});
  spec.mounts = {{"/mnt/data", "bind", path("host-data"), {"rbind", "ro"}},
                 {"/scratch", "tmpfs", "tmpfs", {"nosuid", "size=1m"}}};
  Output o;
  EXPECT_EQ(run_spec(spec, o).exit_code, 0) << o.err;
  EXPECT_EQ(o.out.substr(0, 13), "from host\nro\n");
  EXPECT_NE(o.out.find("tmpfs /scratch tmpfs rw,nosuid"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.substr(o.out.size() - 2), "x\n");
  EXPECT_EQ(names_in(path("host-data")), std::set<std::string>{"file.txt"});
  EXPECT_EQ(names_in(root()), std::set<std::string>{"bin"}); // no /mnt, /scratch stubs
}

TEST_F(Runc, EtcFilesVisibleAndNoStubsLeft) {
  RunSpec spec = spec_for({"sh", "-c", "cat /etc/hosts; echo --; cat /etc/resolv.conf"});
  spec.resolv_conf = "nameserver 192.0.2.53\n";
  Output o;
  EXPECT_EQ(run_spec(spec, o).exit_code, 0) << o.err;
  EXPECT_EQ(o.out, "127.0.0.1\tlocalhost mason-test\n::1\tlocalhost ip6-localhost "
                   "ip6-loopback\n--\nnameserver 192.0.2.53\n");
  // /etc, /proc, /dev and /sys were only created for the mounts.
  EXPECT_EQ(names_in(root()), std::set<std::string>{"bin"});
}

TEST_F(Runc, GeneratedResolvConfFollowsHost) {
  Output o;
  EXPECT_EQ(run_spec(spec_for({"cat", "/etc/resolv.conf"}), o).exit_code, 0);
  EXPECT_NE(o.out.find("nameserver "), std::string::npos) << o.out;
}

TEST_F(Runc, ExistingEtcHostsUntouched) {
  fs::create_directories(root() + "/etc");
  std::ofstream(root() + "/etc/hosts") << "10.1.1.1 mine\n";
  fs::create_directories(root() + "/proc");
  RunSpec spec = spec_for({"cat", "/etc/hosts"});
  spec.hosts = "192.0.2.1 given\n";
  Output o;
  EXPECT_EQ(run_spec(spec, o).exit_code, 0);
  EXPECT_EQ(o.out, "192.0.2.1 given\n");
  EXPECT_EQ(read_text(root() + "/etc/hosts"), "10.1.1.1 mine\n");
  EXPECT_EQ(names_in(root() + "/etc"), std::set<std::string>{"hosts"});
  EXPECT_EQ(names_in(root()), (std::set<std::string>{"bin", "etc", "proc"}));
}

TEST_F(Runc, MissingExecutableIsExecFailed) {
  Output o;
  auto r = m_executor->run(spec_for({"no-such-cmd", "arg"}), o.sink());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), util::ErrorCode::exec_failed);
  EXPECT_NE(
      r.error().to_string().find(R"(exec: "no-such-cmd": executable file not found in $PATH)"),
      std::string::npos)
      << r.error().to_string();
  EXPECT_EQ(names_in(root()), std::set<std::string>{"bin"});
}

TEST_F(Runc, CommandNotFoundInShellIsAnExitCode) {
  Output o;
  EXPECT_EQ(run_sh("no-such-cmd", o).exit_code, 127);
}

TEST_F(Runc, MissingRootIsAnError) {
  RunSpec spec = spec_for({"true"});
  spec.rootfs = path("no-root");
  Output o;
  auto r = m_executor->run(spec, o.sink());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), util::ErrorCode::not_found);
}

// Each container waits for the other's mark in a shared directory:
// serialised runs would time out.
TEST_F(Runc, TwoRunsAtOnce) {
  const std::string second_root = path("root2");
  make_busybox_root(second_root);
  fs::create_directories(path("shared"));
  auto run_one = [&](const std::string& rootfs, const std::string& me, const std::string& other,
                     Output& o, RunResult& r) {
    RunSpec spec = spec_for({"sh", "-c",
                             "touch /shared/" + me + "; i=0; while ! test -e /shared/" + other +
                                 "; do i=$((i+1)); test $i -gt 500 && exit 9; sleep 0.01; done; "
                                 "echo " +
                                 me});
    spec.rootfs = rootfs;
    spec.mounts = {{"/shared", "bind", path("shared"), {"rbind"}}};
    auto result = m_executor->run(spec, o.sink());
    r = result.value_or(RunResult{-1});
  };
  Output o1, o2;
  RunResult r1, r2;
  std::thread t1(run_one, root(), "a", "b", std::ref(o1), std::ref(r1));
  std::thread t2(run_one, second_root, "b", "a", std::ref(o2), std::ref(r2));
  t1.join();
  t2.join();
  EXPECT_EQ(r1.exit_code, 0);
  EXPECT_EQ(r2.exit_code, 0);
  EXPECT_EQ(o1.out, "a\n");
  EXPECT_EQ(o2.out, "b\n");
}

TEST(RuntimeExecutor, MissingRuntimeIsNotFound) {
  auto executor = make_runtime_executor({.runtime = "/nonexistent/runc", .state_dir = ""});
  ASSERT_FALSE(executor);
  EXPECT_EQ(executor.error().code(), util::ErrorCode::not_found);
  auto by_name = make_runtime_executor({.runtime = "mason-no-such-runtime", .state_dir = ""});
  ASSERT_FALSE(by_name);
  EXPECT_EQ(by_name.error().code(), util::ErrorCode::not_found);
}
