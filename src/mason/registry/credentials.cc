// docker's credential store, read and written as docker/cli does.
//
// Lookup: the registry host becomes docker's key (credential_key); the
// helper for it is credHelpers[key], else credsStore. With a helper, the
// answer is the helper's alone (as docker's nativeStore: a plain-text entry
// in `auths` is not consulted). Without one, `auths[key]` is used, else the
// first `auths` key (in file order) that names the same host once its
// scheme and path are stripped (docker's legacy-key rule; we also accept
// "docker.io"-style keys for Docker Hub, which docker ignores).
//
// Store and erase run read-modify-write under flock on "config.json.lock"
// beside config.json and replace the file by rename of a fsynced temp
// file, so a concurrent login never loses another's entry and a crash
// leaves the old or the new file. The JSON is kept as an ordered_json, so
// every key we do not touch keeps its value and its place.
#include "mason/registry/credentials.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <poll.h>
#include <spawn.h>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include "mason/registry/credentials_helper.h"
#include "mason/sys/errors.h"
#include "mason/sys/file.h"
#include "mason/sys/unique_fd.h"
#include "mason/util/base64.h"

extern char** environ; // NOLINT(readability-identifier-naming): POSIX's name

namespace mason::registry {

namespace {

using Json = nlohmann::ordered_json;
using util::ErrorCode;
using util::make_error;

constexpr std::chrono::milliseconds k_helper_timeout{30'000};
constexpr std::string_view k_not_found_message = "credentials not found in native keychain";
constexpr std::string_view k_token_username = "<token>";
constexpr std::size_t k_max_output = std::size_t{1} << 20;

std::string_view trim(std::string_view s) {
  constexpr std::string_view k_space = " \t\r\n";
  const auto begin = s.find_first_not_of(k_space);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(k_space) - begin + 1);
}

// nlohmann's exception text without its "[json.exception.parse_error.101] " tag.
std::string json_error_text(const nlohmann::json::exception& e) {
  const std::string_view text = e.what();
  const auto tag_end = text.starts_with('[') ? text.find("] ") : std::string_view::npos;
  return std::string(tag_end == std::string_view::npos ? text : text.substr(tag_end + 2));
}

// ---- processes -------------------------------------------------------------

struct Pipe {
  sys::UniqueFd read;
  sys::UniqueFd write;
};

util::Result<Pipe> make_pipe() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) return sys::errno_error("pipe", errno);
  return Pipe{sys::UniqueFd(fds[0]), sys::UniqueFd(fds[1])};
}

// Blocks SIGPIPE in this thread while alive, so a helper that exits without
// reading stdin gives EPIPE instead of killing us; a SIGPIPE raised
// meanwhile is consumed before the old mask comes back.
class SigpipeBlock {
public:
  SigpipeBlock() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    m_was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set, &m_old);
  }
  ~SigpipeBlock() {
    sigset_t pending;
    sigpending(&pending);
    if (!m_was_pending && sigismember(&pending, SIGPIPE) == 1) {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGPIPE);
      const timespec zero{};
      while (sigtimedwait(&set, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

private:
  sigset_t m_old{};
  bool m_was_pending = false;
};

// posix_spawnp with the three pipe ends as stdin/stdout/stderr, default
// SIGPIPE disposition and an empty signal mask in the child.
util::Result<pid_t> spawn(const std::string& program, const std::string& action, int in_fd,
                          int out_fd, int err_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::string arg0 = program;
  std::string arg1 = action;
  std::array<char*, 3> argv{arg0.data(), arg1.data(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, program.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return make_error(ErrorCode::exec_failed,
                      "run " + program + " " + action + " (looked up in PATH)", rc);
  }
  return pid;
}

int wait_exit_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Appends what `fd` has to `sink` (up to k_max_output); false at EOF or on
// an error, when the caller stops polling it.
bool drain(int fd, std::string& sink) {
  std::array<char, 4096> buffer{};
  const ssize_t n = ::read(fd, buffer.data(), buffer.size());
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  const auto room = k_max_output - std::min(k_max_output, sink.size());
  sink.append(buffer.data(), std::min(room, static_cast<std::size_t>(n)));
  return true;
}

// Feeds `input` (advancing it) into `fd`; false once all is written or the
// reader is gone.
bool feed(int fd, std::string_view& input) {
  const ssize_t n = ::write(fd, input.data(), input.size());
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  input.remove_prefix(static_cast<std::size_t>(n));
  return !input.empty();
}

struct ChildStreams {
  sys::UniqueFd in;  // the child's stdin, our (non-blocking) write end
  sys::UniqueFd out; // its stdout, our read end
  sys::UniqueFd err; // its stderr, our read end
};

int poll_timeout_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(left.count() + 1, 0, 60'000));
}

// Writes `input` and reads both outputs until the child closes them.
// Errors: exec_failed when `deadline` passes first.
util::Status communicate(ChildStreams& child, std::string_view input, detail::HelperRun& run,
                         std::chrono::steady_clock::time_point deadline, const std::string& what) {
  const SigpipeBlock block;
  if (input.empty()) child.in.reset();
  while (child.out.valid() || child.err.valid()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return make_error(ErrorCode::exec_failed, what + ": timed out, killed");
    }
    std::array<pollfd, 3> fds{
        {{child.in.get(), POLLOUT, 0}, {child.out.get(), POLLIN, 0}, {child.err.get(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), poll_timeout_ms(deadline)) < 0) {
      if (errno == EINTR) continue;
      return sys::errno_error(what + ": poll", errno);
    }
    if (fds[0].revents != 0 && !feed(child.in.get(), input)) child.in.reset();
    if (fds[1].revents != 0 && !drain(child.out.get(), run.out)) child.out.reset();
    if (fds[2].revents != 0 && !drain(child.err.get(), run.err)) child.err.reset();
  }
  return {};
}

util::Result<ChildStreams> start_child(const std::string& program, const std::string& action,
                                       pid_t& pid) {
  MASON_TRY_ASSIGN(auto in, make_pipe());
  MASON_TRY_ASSIGN(auto out, make_pipe());
  MASON_TRY_ASSIGN(auto err, make_pipe());
  if (::fcntl(in.write.get(), F_SETFL, O_NONBLOCK) != 0) {
    return sys::errno_error("set O_NONBLOCK on a pipe", errno);
  }
  MASON_TRY_ASSIGN(auto spawned,
                   spawn(program, action, in.read.get(), out.write.get(), err.write.get()));
  pid = spawned;
  return ChildStreams{std::move(in.write), std::move(out.read), std::move(err.read)};
}

// ---- configuration file ----------------------------------------------------

struct ConfigPaths {
  std::string dir;  // the configuration directory
  std::string file; // <dir>/config.json
};

util::Result<ConfigPaths> config_paths(const CredentialStoreOptions& options) {
  if (options.config_dir.empty())
    return make_error(ErrorCode::invalid_argument,
                      "no docker configuration directory: set DOCKER_CONFIG or HOME");
  return ConfigPaths{options.config_dir, options.config_dir + "/config.json"};
}

util::Result<std::string> read_whole(int fd, const std::string& path) {
  std::string text;
  std::array<char, 65536> buffer{};
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::errno_error("read " + sys::quote(path), errno);
    if (n == 0) return text;
    text.append(buffer.data(), static_cast<std::size_t>(n));
  }
}

util::Status check_type(const Json& config, const char* key, Json::value_t type,
                        const std::string& path) {
  const auto it = config.find(key);
  if (it == config.end() || it->type() == type) return {};
  return make_error(ErrorCode::corruption,
                    "docker config " + sys::quote(path) + ": \"" + key + "\" has the wrong type");
}

// config.json as JSON; an empty object when the file is missing or empty
// (docker accepts both). Errors: corruption for malformed JSON or a wrong
// type of auths / credHelpers / credsStore, naming the file.
util::Result<Json> read_config(const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Json::object();
    return sys::errno_error("open docker config " + sys::quote(path), errno);
  }
  MASON_TRY_ASSIGN(auto text, read_whole(fd.get(), path));
  if (trim(text).empty()) return Json::object();
  Json config;
  try {
    config = Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::corruption,
                      "parse docker config " + sys::quote(path) + ": " + json_error_text(e));
  }
  if (!config.is_object()) {
    return make_error(ErrorCode::corruption,
                      "docker config " + sys::quote(path) + ": not a JSON object");
  }
  for (const auto& [key, type] :
       {std::pair{"auths", Json::value_t::object}, std::pair{"credHelpers", Json::value_t::object},
        std::pair{"credsStore", Json::value_t::string}}) {
    MASON_TRY(check_type(config, key, type, path));
  }
  return config;
}

// The `auths` key for `key`: the exact one, else the first whose host is
// the same (docker's legacy "https://host/v1/" keys).
std::optional<std::string> find_key(const Json& map, const std::string& key) {
  if (map.contains(key)) return key;
  for (const auto& [candidate, value] : map.items()) {
    if (detail::credential_key(candidate) == key) return candidate;
  }
  return std::nullopt;
}

// The helper suffix that keeps credentials for `key`, or "" for config.json.
std::string helper_for(const Json& config, const std::string& key) {
  if (const auto helpers = config.find("credHelpers"); helpers != config.end()) {
    if (const auto found = find_key(*helpers, key); found) {
      const auto& name = (*helpers)[*found];
      if (name.is_string()) return name.get<std::string>();
    }
  }
  if (const auto store = config.find("credsStore"); store != config.end()) {
    return store->get<std::string>();
  }
  return {};
}

util::Result<std::string> string_field(const Json& entry, const char* name,
                                       const std::string& where) {
  const auto it = entry.find(name);
  if (it == entry.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return make_error(ErrorCode::corruption, where + ": \"" + name + "\" is not a string");
  }
  return it->get<std::string>();
}

// docker's decodeAuth: base64 of "user:password", the password trimmed of
// NUL bytes.
util::Status decode_auth(const std::string& auth, Credentials& out, const std::string& where) {
  const auto decoded = util::base64_decode(auth, util::Base64Padding::optional);
  if (!decoded) return make_error(ErrorCode::corruption, where + ": \"auth\" is not base64");
  const auto colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0) {
    return make_error(ErrorCode::corruption, where + ": \"auth\" is not \"user:password\"");
  }
  out.username = decoded->substr(0, colon);
  const auto password = std::string_view(*decoded).substr(colon + 1);
  const auto first = password.find_first_not_of('\0');
  out.password =
      first == std::string_view::npos
          ? std::string()
          : std::string(password.substr(first, password.find_last_not_of('\0') - first + 1));
  return {};
}

// One `auths` entry; nullopt when it holds no secret (docker's placeholder
// left by a helper login).
util::Result<std::optional<Credentials>> decode_entry(const Json& entry, const std::string& where) {
  if (!entry.is_object()) return make_error(ErrorCode::corruption, where + ": not an object");
  auto auth = string_field(entry, "auth", where);
  auto username = string_field(entry, "username", where);
  auto password = string_field(entry, "password", where);
  auto token = string_field(entry, "identitytoken", where);
  for (auto* field : {&auth, &username, &password, &token}) {
    if (!*field) return std::unexpected(std::move(field->error()));
  }
  Credentials credentials{*username, *password, *token};
  if (!auth->empty()) {
    MASON_TRY(decode_auth(*auth, credentials, where));
  }
  if (credentials.username.empty() && credentials.password.empty() &&
      credentials.identity_token.empty()) {
    return std::nullopt;
  }
  return credentials;
}

Json encode_entry(const Credentials& credentials) {
  Json entry = Json::object();
  if (!credentials.username.empty() || !credentials.password.empty()) {
    entry["auth"] = util::base64_encode(credentials.username + ":" + credentials.password);
  }
  if (!credentials.identity_token.empty()) entry["identitytoken"] = credentials.identity_token;
  return entry;
}

util::Status make_dirs(const std::string& dir) {
  for (std::size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    const std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return sys::errno_error("mkdir " + sys::quote(prefix), errno);
    }
  }
  return {};
}

// Holds flock(LOCK_EX) on <dir>/config.json.lock while alive.
util::Result<sys::UniqueFd> lock_config(const ConfigPaths& paths) {
  MASON_TRY(make_dirs(paths.dir));
  const std::string lock_path = paths.file + ".lock";
  sys::UniqueFd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return sys::errno_error("open lock file " + sys::quote(lock_path), errno);
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return sys::errno_error("lock " + sys::quote(lock_path), errno);
  }
  return fd;
}

// Where the new file goes: config.json, or what it links to (docker
// writes through a symlinked config.json rather than replacing the link).
std::string write_target(const std::string& file) {
  std::array<char, 4096> link{};
  const ssize_t n = ::readlink(file.c_str(), link.data(), link.size() - 1);
  if (n <= 0) return file;
  std::string target(link.data(), static_cast<std::size_t>(n));
  if (target.front() == '/') return target;
  return file.substr(0, file.rfind('/') + 1) + target;
}

// Fills the temp file: the existing file's mode and owner (else 0600),
// the JSON tab-indented as docker writes it.
util::Status fill_temp(sys::AtomicFile& file, const std::string& target, const Json& config) {
  const int fd = file.fd();
  struct stat existing {};
  mode_t mode = 0600;
  if (::stat(target.c_str(), &existing) == 0) {
    mode = existing.st_mode & 07777;
    if (existing.st_uid != ::geteuid() || existing.st_gid != ::getegid()) {
      (void)::fchown(fd, existing.st_uid, existing.st_gid); // best effort, as docker
    }
  }
  if (::fchmod(fd, mode) != 0)
    return sys::errno_error("chmod " + sys::quote(file.temp_path()), errno);
  return file.write(config.dump(1, '\t', false, Json::error_handler_t::replace));
}

// Replaces config.json by rename of a complete temp file beside it. The
// caller holds the lock.
util::Status write_config(const ConfigPaths& paths, const Json& config) {
  const std::string target = write_target(paths.file);
  MASON_TRY_ASSIGN(auto file, sys::AtomicFile::create(target, 0600));
  MASON_TRY(fill_temp(file, target, config));
  return file.commit();
}

// Runs `change` on config.json under the lock and writes the result back
// when `change` returns true. `change` returns Result<bool>.
template <class Change>
util::Status update_config(const ConfigPaths& paths, Change&& change) {
  MASON_TRY_ASSIGN(auto lock, lock_config(paths)); // held until the file is written
  MASON_TRY_ASSIGN(auto config, read_config(paths.file));
  MASON_TRY_ASSIGN(auto changed, std::forward<Change>(change)(config));
  if (!changed) return {};
  return write_config(paths, config);
}

std::string helper_program(const std::string& helper) { return "docker-credential-" + helper; }

util::Error helper_failure(const std::string& what, const detail::HelperRun& run) {
  std::string message = what + ": exit status " + std::to_string(run.exit_status);
  std::string_view output = trim(run.out);
  if (output.empty()) output = trim(run.err);
  if (!output.empty()) message += ": " + std::string(output);
  return util::Error(ErrorCode::exec_failed, std::move(message));
}

// Sets auths[key]; true if that changed the file.
bool store_in_file(Json& config, const std::string& key, const Credentials& credentials) {
  if (!config.contains("auths")) config["auths"] = Json::object();
  auto& auths = config["auths"];
  Json entry = encode_entry(credentials);
  if (auths.contains(key) && auths[key] == entry) return false;
  auths[key] = std::move(entry);
  return true;
}

// Removes every `auths` entry naming the host of `key`; true if any was.
bool erase_from_file(Json& config, const std::string& key) {
  const auto auths = config.find("auths");
  if (auths == config.end()) return false;
  bool erased = false;
  while (const auto found = find_key(*auths, key)) {
    auths->erase(*found);
    erased = true;
  }
  return erased;
}

} // namespace

namespace detail {

std::string convert_to_hostname(std::string_view maybe_url) {
  if (const auto scheme = maybe_url.find("://"); scheme != std::string_view::npos) {
    std::string_view authority = maybe_url.substr(scheme + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
      authority.remove_prefix(at + 1);
    }
    if (authority.size() > 2 && authority.front() == '[' && authority.back() == ']') {
      authority = authority.substr(1, authority.size() - 2); // Go's Hostname() of "[::1]"
    }
    if (!authority.empty()) return std::string(authority);
  }
  return std::string(maybe_url.substr(0, maybe_url.find('/')));
}

std::string credential_key(std::string_view host) {
  std::string hostname = convert_to_hostname(host);
  if (hostname == "docker.io" || hostname == "index.docker.io" ||
      hostname == "registry-1.docker.io") {
    return std::string(k_docker_hub_key);
  }
  return hostname;
}

util::Result<HelperRun> run_helper(const std::string& program, const std::string& action,
                                   std::string_view input, std::chrono::milliseconds timeout) {
  const std::string what = program + " " + action;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pid_t pid = -1;
  MASON_TRY_ASSIGN(auto child, start_child(program, action, pid));
  HelperRun run;
  auto talked = communicate(child, input, run, deadline, what);
  if (!talked) ::kill(pid, SIGKILL);
  run.exit_status = wait_exit_status(pid);
  if (!talked) return std::unexpected(std::move(talked.error()));
  return run;
}

util::Result<std::optional<Credentials>> helper_get(const std::string& helper,
                                                    const std::string& server_url,
                                                    std::chrono::milliseconds timeout) {
  const std::string what = "get credentials for " + server_url + " from " + helper_program(helper);
  auto run = run_helper(helper_program(helper), "get", server_url, timeout);
  if (!run) return std::unexpected(std::move(run.error().with_context(what)));
  if (run->exit_status != 0) {
    if (trim(run->out) == k_not_found_message) return std::nullopt;
    return std::unexpected(helper_failure(what, *run));
  }
  Json answer;
  try {
    answer = Json::parse(run->out);
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::exec_failed,
                      what + ": invalid JSON answer: " + json_error_text(e));
  }
  if (!answer.is_object()) {
    return make_error(ErrorCode::exec_failed, what + ": the answer is not a JSON object");
  }
  auto username = string_field(answer, "Username", what);
  auto secret = string_field(answer, "Secret", what);
  if (!username || !secret) {
    return make_error(ErrorCode::exec_failed, what + ": Username and Secret must be strings");
  }
  if (*username == k_token_username) return Credentials{{}, {}, *secret};
  if (username->empty() && secret->empty()) return std::nullopt;
  return Credentials{*username, *secret, {}};
}

util::Status helper_store(const std::string& helper, const std::string& server_url,
                          const Credentials& credentials, std::chrono::milliseconds timeout) {
  const std::string what = "store credentials for " + server_url + " in " + helper_program(helper);
  const bool token = !credentials.identity_token.empty();
  Json request = Json::object();
  request["ServerURL"] = server_url;
  request["Username"] = token ? std::string(k_token_username) : credentials.username;
  request["Secret"] = token ? credentials.identity_token : credentials.password;
  const std::string input = request.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  auto run = run_helper(helper_program(helper), "store", input, timeout);
  if (!run) return std::unexpected(std::move(run.error().with_context(what)));
  if (run->exit_status != 0) return std::unexpected(helper_failure(what, *run));
  return {};
}

util::Result<bool> helper_erase(const std::string& helper, const std::string& server_url,
                                std::chrono::milliseconds timeout) {
  const std::string what =
      "erase credentials for " + server_url + " from " + helper_program(helper);
  auto run = run_helper(helper_program(helper), "erase", server_url, timeout);
  if (!run) return std::unexpected(std::move(run.error().with_context(what)));
  if (run->exit_status == 0) return true;
  if (trim(run->out) == k_not_found_message) return false;
  return std::unexpected(helper_failure(what, *run));
}

} // namespace detail

util::Result<std::optional<Credentials>> lookup_credentials(const std::string& host,
                                                            const CredentialStoreOptions& options) {
  MASON_TRY_ASSIGN(auto paths, config_paths(options));
  auto config = read_config(paths.file);
  if (!config) return std::unexpected(std::move(config.error()));
  const std::string key = detail::credential_key(host);
  if (const std::string helper = helper_for(*config, key); !helper.empty()) {
    return detail::helper_get(helper, key, k_helper_timeout);
  }
  const auto auths = config->find("auths");
  if (auths == config->end()) return std::nullopt;
  const auto found = find_key(*auths, key);
  if (!found) return std::nullopt;
  return decode_entry((*auths)[*found],
                      "docker config " + sys::quote(paths.file) + ": auths " + sys::quote(*found));
}

util::Status store_credentials(const std::string& host, const Credentials& credentials,
                               const CredentialStoreOptions& options) {
  MASON_TRY_ASSIGN(auto paths, config_paths(options));
  const std::string key = detail::credential_key(host);
  return update_config(paths, [&](Json& config) -> util::Result<bool> {
    const std::string helper = helper_for(config, key);
    if (helper.empty()) return store_in_file(config, key, credentials);
    if (auto ok = detail::helper_store(helper, key, credentials, k_helper_timeout); !ok) {
      return std::unexpected(ok.error());
    }
    // As docker's nativeStore: an empty entry in auths, no secret in the file.
    return store_in_file(config, key, Credentials{});
  });
}

util::Status erase_credentials(const std::string& host, const CredentialStoreOptions& options) {
  MASON_TRY_ASSIGN(auto paths, config_paths(options));
  const std::string key = detail::credential_key(host);
  const auto none_error = [&] {
    return make_error(ErrorCode::not_found,
                      "erase credentials for " + host + ": none in " + sys::quote(paths.file));
  };
  if (::access(paths.file.c_str(), F_OK) != 0 && errno == ENOENT) return none_error();
  bool found = false;
  auto ok = update_config(paths, [&](Json& config) -> util::Result<bool> {
    if (const std::string helper = helper_for(config, key); !helper.empty()) {
      MASON_TRY_ASSIGN(auto erased, detail::helper_erase(helper, key, k_helper_timeout));
      found = erased;
    }
    const bool changed = erase_from_file(config, key);
    found = found || changed;
    return changed;
  });
  if (!ok) return ok;
  if (!found) return none_error();
  return {};
}

} // namespace mason::registry
