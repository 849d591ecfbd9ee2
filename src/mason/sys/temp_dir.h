// TempDir: the owner of a fresh private directory, removed with everything
// in it when the owner dies.
//
// Ownership: the TempDir owns the directory (on disk) and an open O_PATH
// descriptor of it; moving transfers both. Removal never follows symlinks
// (remove_all_at), so whatever the directory came to contain, nothing
// outside it is touched. Thread-safety: like a value; do not share one
// object between threads.
#pragma once

#include <string>
#include <string_view>

#include "mason/sys/unique_fd.h"
#include "mason/util/error.h"

namespace mason::sys {

class TempDir {
public:
  // mkdtemp("<parent>/<prefix>XXXXXX"), mode 0700; create() puts it in
  // /tmp (mason's own scratch lives in the store: content/layout.h).
  // Errors: the parent does not exist or is not writable.
  static util::Result<TempDir> create(std::string_view prefix = "mason-");
  static util::Result<TempDir> create_in(const std::string& parent, std::string_view prefix);

  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir(); // removes the tree; errors are ignored (use remove())

  const std::string& path() const { return m_path; }
  int fd() const { return m_fd.get(); } // O_PATH|O_DIRECTORY, owned by *this

  // Removes the tree now and reports the first error; afterwards the
  // object is empty (path() is "").
  util::Status remove();

private:
  TempDir(std::string path, UniqueFd fd) : m_path(std::move(path)), m_fd(std::move(fd)) {}
  std::string m_path;
  UniqueFd m_fd;
};

} // namespace mason::sys
