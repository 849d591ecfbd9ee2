// Directory tree → tar entries: list each directory's names (sorted),
// lstat each through the directory's descriptor, write its entry
// (EntryWriter), and recurse into subdirectories opened with O_NOFOLLOW.
#include "mason/archive/tree_writer.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/sys/dir.h"
#include "mason/sys/errors.h"
#include "mason/sys/unique_fd.h"

namespace mason::archive {

namespace {

std::unexpected<util::Error> at_path(util::Error e, const std::string& rel) {
  return std::unexpected(std::move(e).with_context("archive \"" + rel + "\""));
}

class TreeWriter {
public:
  TreeWriter(const TarOptions& options, TarWriter& out) : m_entries(options, out) {}

  util::Status walk(int dir_fd, const std::string& prefix) {
    auto names = sys::read_dir_names(dir_fd);
    if (!names) return at_path(std::move(names.error()), prefix.empty() ? "." : prefix);
    for (const auto& name : *names) {
      const std::string rel = prefix + name;
      auto st = sys::lstat_at(dir_fd, name);
      if (!st) return at_path(std::move(st.error()), rel);
      if (!*st) continue; // vanished since the listing
      MASON_TRY(m_entries.write(dir_fd, name, rel, **st));
      if (S_ISDIR((*st)->st_mode)) MASON_TRY(descend(dir_fd, name, rel));
    }
    return {};
  }

  const TreeStats& stats() const { return m_entries.stats(); }

private:
  util::Status descend(int dir_fd, const std::string& name, const std::string& rel) {
    sys::UniqueFd sub(
        ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) return at_path(sys::errno_error("open directory", errno).error(), rel);
    return walk(sub.get(), rel + "/");
  }

  EntryWriter m_entries;
};

} // namespace

util::Result<TreeStats> write_tree(int root_fd, const TarOptions& options, TarWriter& out) {
  TreeWriter writer(options, out);
  sys::UniqueFd root(::openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys::errno_error("open tree root", errno);
  MASON_TRY(writer.walk(root.get(), ""));
  return writer.stats();
}

} // namespace mason::archive
