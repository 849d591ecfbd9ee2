// The copy of one source into the destination root: fsutil's copy.Copy as
// BuildKit's file op calls it for COPY/ADD (CopyDirContents and
// FollowLinks on, no wildcards left: they are expanded by the caller).
//
// For a source S (already resolved: no symlink left in its path) and a
// destination D as spelled ("/app", "/app/", "/app/."):
//  1. the directory holding D (or D itself when D ends in "/" or "/.") is
//     created, resolving symlinks inside the destination root;
//  2. D is resolved (all symlinks, inside the root); when S is not a
//     directory and D is an existing directory, the target is D/base(S);
//     when S is a directory, its contents go into D (created if missing);
//  3. the tree is copied: regular files (hard links inside the source
//     kept as hard links), symlinks verbatim (never followed), directories
//     merged into existing ones, fifos and devices recreated (a socket
//     becomes an empty file, a block device a character device — fsutil
//     clears S_IFSOCK's bits from the mode); a file replaces a non-directory
//     at its target, never a directory ("cannot replace to directory ...");
//  4. metadata of each copied entry, after its contents: owner (see
//     CopyPolicy), mode (--chmod), atime/mtime from the source, xattrs
//     (best effort). The top directory keeps its own owner and mode and
//     gets the source directory's times. Directories created on the way
//     get CopyPolicy::mode.created_dir_mode() and the --chown owner.
//  Include patterns (--parents) and exclude patterns (--exclude) are
//  matched against paths relative to S (S itself is never matched); the
//  parents of an included entry are created with their source metadata
//  when it is reached.
// Ownership: borrows the source tree, the root descriptor and the policy.
// Thread-safety: one copier per thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mason/frontend/dockerignore.h"
#include "mason/ops/copy.h"
#include "mason/ops/copy_mode.h"
#include "mason/ops/copy_source.h"
#include "mason/ops/user.h"

namespace mason::ops {

// Copies the rest of `in` to `out` (both at their offsets): copy_file_range,
// falling back to read/write where the kernel or file systems cannot (as
// Go's io.Copy does). Returns the bytes copied.
util::Result<std::uint64_t> copy_data(int in, int out);

struct CopyPolicy {
  std::optional<Owner> chown;        // --chown: owner of every copied and created entry
  bool source_owner_is_root = false; // context sources: entries belong to 0:0
  bool set_owners = true;            // false: leave owners to the caller (not root, no --chown)
  ModeSpec mode;                     // --chmod
  const frontend::IgnoreMatcher* include = nullptr; // --parents patterns; null: everything
  std::vector<std::string> include_patterns;        // their text (to skip unrelated trees)
  const frontend::IgnoreMatcher* exclude = nullptr; // --exclude; null: nothing
};

class TreeCopier {
public:
  TreeCopier(const SourceTree& source, int dest_root_fd, const CopyPolicy& policy,
             CopyStats& stats);
  ~TreeCopier();
  TreeCopier(const TreeCopier&) = delete;
  TreeCopier& operator=(const TreeCopier&) = delete;

  // `source_path`: resolved, existing; `source_name`: the base name the
  // source was asked for (a symlink's own name, not its target's);
  // `dest`: normalized (copy_paths.h).
  util::Status copy(const std::string& source_path, const std::string& source_name,
                    const std::string& dest);

private:
  struct Entry;
  struct Frame;
  struct Decision;

  util::Result<std::string> prepare_target(const struct stat& source_st,
                                           const std::string& source_name, const std::string& dest);
  util::Status copy_entry(const Entry& e, bool overwrite);
  util::Result<std::optional<struct stat>> prepare_slot(const Entry& e, bool overwrite);
  util::Status copy_dir_entry(const Entry& e, const Decision& d, bool overwrite, bool existed);
  std::string dest_path_of(const Entry& e) const;
  Decision decide(const Entry& e) const;
  util::Result<bool> copy_directory(const Entry& e, const Decision& d, bool overwrite);
  util::Status copy_children(const Entry& e, const Decision& d, int src_dir_fd);
  util::Status create_pending_parents(bool overwrite);
  util::Result<bool> copy_directory_only(int parent_fd, const std::string& name,
                                         const std::string& path, const struct stat& st,
                                         bool overwrite);
  util::Status copy_file(const Entry& e, int parent_fd, const std::string& dst_path);
  util::Status copy_special(const Entry& e, int parent_fd, const std::string& dst_path);
  util::Status apply_metadata(const Entry& e, int parent_fd, const std::string& name,
                              const std::string& dst_path);
  bool below_include_prefix(const std::string& components) const;
  int dest_parent_fd() const;
  std::string dest_parent_path() const;

  const SourceTree& m_source;
  int m_dest_root;
  const CopyPolicy& m_policy;
  CopyStats& m_stats;
  std::vector<Frame> m_stack;
  int m_base_fd = -1;      // parent of the top entry in the destination
  std::string m_base_path; // its root-relative path
  std::map<std::pair<dev_t, ino_t>, std::string> m_links; // source inode -> first dest path
};

} // namespace mason::ops
