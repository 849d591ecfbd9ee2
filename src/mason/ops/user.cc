// /etc/passwd and /etc/group lookups inside a root, and the two id
// resolutions BuildKit uses (see user.h): USER (runc's GetExecUser behind
// BuildKit's GetUser) and --chown (llb.WithUser + the file op's readUser).
// Files are read whole (at most 10 MiB, as the reference) and parsed into
// entries; a field that is not a number reads as 0, like moby/sys/user.
#include "mason/ops/user.h"

#include <cctype>
#include <cerrno>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "mason/ops/copy.h"
#include "mason/sys/errors.h"
#include "mason/sys/in_root.h"
#include "mason/util/strings.h"

namespace mason::ops {

namespace {

constexpr off_t k_max_user_file = 10 << 20;
constexpr std::int64_t k_max_id = (std::int64_t{1} << 31) - 1;
constexpr const char* k_passwd = "/etc/passwd";
constexpr const char* k_group = "/etc/group";

struct PasswdEntry {
  std::string name;
  std::int64_t uid = 0;
  std::int64_t gid = 0;
};

struct GroupEntry {
  std::string name;
  std::int64_t gid = 0;
  std::vector<std::string> members;
};

// strconv.Atoi: optional sign, decimal digits, fits in 64 bits.
std::optional<std::int64_t> go_atoi(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (std::uint64_t{1} << 63) / 10) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > (std::uint64_t{1} << 63) - (negative ? 0 : 1)) return std::nullopt;
  return negative ? -static_cast<std::int64_t>(v - 1) - 1 : static_cast<std::int64_t>(v);
}

// The ids docker's --chown takes as numbers: "root", or a decimal that
// fits in 32 signed bits (strconv.ParseInt(s, 10, 32)).
std::optional<std::uint32_t> chown_id(std::string_view s) {
  if (s == "root") return 0;
  const auto v = go_atoi(s);
  if (!v || *v < -(k_max_id + 1) || *v > k_max_id) return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

// The ids USER takes as numbers in its fast path: "root" or an unsigned
// 32-bit decimal (strconv.ParseUint(s, 10, 32)).
std::optional<std::uint32_t> user_id(std::string_view s) {
  if (s == "root") return 0;
  if (s.empty() || s.front() == '+' || s.front() == '-') return std::nullopt;
  const auto v = go_atoi(s);
  if (!v || *v > 0xFFFFFFFF) return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

std::int64_t field_number(std::string_view s) { return go_atoi(s).value_or(0); }

// The lines of a user file, blank and '#' lines skipped, trimmed.
std::vector<std::vector<std::string_view>> records(std::string_view text) {
  std::vector<std::vector<std::string_view>> out;
  for (auto line : util::split(text, '\n')) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
      line.remove_suffix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
      line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    out.push_back(util::split(line, ':'));
  }
  return out;
}

std::string_view field(const std::vector<std::string_view>& f, std::size_t i) {
  return i < f.size() ? f[i] : std::string_view();
}

std::vector<PasswdEntry> parse_passwd(std::string_view text) {
  std::vector<PasswdEntry> out;
  for (const auto& f : records(text))
    out.push_back({std::string(field(f, 0)), field_number(field(f, 2)), field_number(field(f, 3))});
  return out;
}

std::vector<GroupEntry> parse_group(std::string_view text) {
  std::vector<GroupEntry> out;
  for (const auto& f : records(text)) {
    GroupEntry g{std::string(field(f, 0)), field_number(field(f, 2)), {}};
    if (!field(f, 3).empty())
      for (const auto m : util::split(field(f, 3), ',')) g.members.emplace_back(m);
    out.push_back(std::move(g));
  }
  return out;
}

util::Result<std::string> read_all(int fd, const std::string& path) {
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::errno_error("read " + path, errno);
    if (n == 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > static_cast<std::size_t>(k_max_user_file))
      return util::make_error(util::ErrorCode::invalid_argument,
                              path + " exceeds " + std::to_string(k_max_user_file) + " bytes");
  }
}

// The file's text, or nullopt when it does not exist (ENOENT/ENOTDIR, as
// the reference treats a missing file as an empty one).
util::Result<std::optional<std::string>> read_user_file(int root_fd, const std::string& path) {
  auto fd = sys::open_in_root(root_fd, path, O_RDONLY);
  if (!fd) {
    const int err = fd.error().sys_errno();
    if (err == ENOENT || err == ENOTDIR) return std::optional<std::string>();
    return std::unexpected(std::move(fd.error()));
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return sys::errno_error("stat " + path, errno);
  if (!S_ISREG(st.st_mode))
    return util::make_error(util::ErrorCode::invalid_argument, path + " is not a regular file");
  MASON_TRY_ASSIGN(auto text, read_all(fd->get(), path));
  return std::optional<std::string>(std::move(text));
}

util::Result<std::vector<PasswdEntry>> load_passwd(int root_fd) {
  MASON_TRY_ASSIGN(auto text, read_user_file(root_fd, k_passwd));
  return text ? parse_passwd(*text) : std::vector<PasswdEntry>{};
}

util::Result<std::vector<GroupEntry>> load_group(int root_fd) {
  MASON_TRY_ASSIGN(auto text, read_user_file(root_fd, k_group));
  return text ? parse_group(*text) : std::vector<GroupEntry>{};
}

util::Status check_range(std::int64_t id, std::string_view what) {
  if (id < 0 || id > k_max_id)
    return util::make_error(util::ErrorCode::invalid_argument,
                            std::string(what) + " " + std::to_string(id) + " is out of range");
  return {};
}

// runc's GetExecUser with the default user 0:0 (user.h).
class ExecUserResolver {
public:
  ExecUserResolver(std::string_view user, std::string_view group) : m_user(user), m_group(group) {}

  util::Result<Identity> run(int root_fd) {
    MASON_TRY_ASSIGN(auto passwd, load_passwd(root_fd));
    MASON_TRY(pick_user(passwd));
    if (m_group.empty() && m_matched_name.empty()) return m_id;
    MASON_TRY_ASSIGN(auto groups, load_group(root_fd));
    MASON_TRY(pick_groups(groups));
    return m_id;
  }

private:
  util::Status pick_user(const std::vector<PasswdEntry>& entries) {
    const auto uid = go_atoi(m_user);
    for (const auto& e : entries) {
      const bool hit = m_user.empty() ? e.uid == 0 : uid ? e.uid == *uid : e.name == m_user;
      if (!hit) continue;
      m_matched_name = e.name;
      m_id.uid = static_cast<std::uint32_t>(e.uid);
      m_id.gid = static_cast<std::uint32_t>(e.gid);
      return {};
    }
    if (m_user.empty()) return {};
    if (!uid)
      return util::make_error(util::ErrorCode::not_found,
                              "unable to find user " + sys::quote(m_user) +
                                  ": no matching entries in " + k_passwd);
    if (auto st = check_range(*uid, "uid"); !st) return st;
    m_id.uid = static_cast<std::uint32_t>(*uid);
    return {};
  }

  bool group_hit(const GroupEntry& g, const std::optional<std::int64_t>& gid) const {
    if (m_group.empty()) {
      for (const auto& m : g.members)
        if (m == m_matched_name) return true;
      return false;
    }
    return gid ? g.gid == *gid : g.name == m_group;
  }

  util::Status pick_groups(const std::vector<GroupEntry>& entries) {
    const auto gid = go_atoi(m_group);
    std::vector<std::uint32_t> hits;
    for (const auto& g : entries)
      if (group_hit(g, gid)) hits.push_back(static_cast<std::uint32_t>(g.gid));
    if (m_group.empty()) {
      m_id.additional_gids = std::move(hits);
      return {};
    }
    if (!hits.empty()) {
      m_id.gid = hits.front();
      return {};
    }
    if (!gid)
      return util::make_error(util::ErrorCode::not_found,
                              "unable to find group " + sys::quote(m_group) +
                                  ": no matching entries in " + k_group);
    if (auto st = check_range(*gid, "gid"); !st) return st;
    m_id.gid = static_cast<std::uint32_t>(*gid);
    return {};
  }

  std::string m_user, m_group, m_matched_name;
  Identity m_id;
};

// "uid:gid" with both parts numeric: taken without reading any file.
std::optional<Identity> fast_ids(std::string_view spec) {
  const auto colon = spec.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto uid = user_id(spec.substr(0, colon));
  const auto gid = user_id(spec.substr(colon + 1));
  if (!uid || !gid) return std::nullopt;
  return Identity{*uid, *gid, {}};
}

} // namespace

util::Result<Identity> resolve_user(int root_fd, const std::string& user_spec,
                                    bool with_supplementary_groups) {
  // No USER: "0", looked up like any other (gid and groups of root's
  // entries), but a failure is not an error.
  const bool is_default = user_spec.empty();
  const std::string spec = is_default ? "0" : user_spec;
  if (auto ids = fast_ids(spec)) return *ids;
  const auto parts = util::split(spec, ':');
  auto id = ExecUserResolver(parts[0], parts.size() > 1 ? parts[1] : "").run(root_fd);
  if (!id && is_default) return Identity{};
  if (!id)
    return std::unexpected(std::move(id.error()).with_context("resolve user " + sys::quote(spec)));
  if (!with_supplementary_groups) id->additional_gids.clear();
  return id;
}

namespace {

util::Status chown_user(int root_fd, std::string_view user, Owner& out) {
  if (const auto id = chown_id(user)) {
    out = {*id, *id};
    return {};
  }
  if (user.empty()) return {};
  MASON_TRY_ASSIGN(auto passwd, load_passwd(root_fd));
  for (const auto& e : passwd) {
    if (e.name != user) continue;
    out = {static_cast<std::uint32_t>(e.uid), static_cast<std::uint32_t>(e.gid)};
    break;
  }
  return {};
}

util::Status chown_group(int root_fd, std::string_view group, Owner& out) {
  if (const auto id = chown_id(group)) {
    out.gid = *id;
    return {};
  }
  if (group.empty()) {
    out.gid = 0;
    return {};
  }
  MASON_TRY_ASSIGN(auto groups, load_group(root_fd));
  for (const auto& g : groups) {
    if (g.name != group) continue;
    out.gid = static_cast<std::uint32_t>(g.gid);
    break;
  }
  return {};
}

} // namespace

bool chown_names_someone(std::string_view spec) {
  const auto by_name = [](std::string_view part) { return !part.empty() && !chown_id(part); };
  const auto colon = spec.find(':');
  return by_name(spec.substr(0, colon)) ||
         (colon != std::string_view::npos && by_name(spec.substr(colon + 1)));
}

util::Result<Owner> resolve_chown(int root_fd, std::string_view spec) {
  Owner out;
  const auto colon = spec.find(':');
  auto st = chown_user(root_fd, spec.substr(0, colon), out);
  if (st && colon != std::string_view::npos) st = chown_group(root_fd, spec.substr(colon + 1), out);
  if (!st)
    return std::unexpected(
        std::move(st.error()).with_context("resolve --chown " + sys::quote(spec)));
  return out;
}

} // namespace mason::ops
