// .dockerignore: reading the file and deciding which build-context paths it
// excludes, with the reference's semantics (moby/patternmatcher and its
// ignorefile reader, as BuildKit's context walker applies them). Pure: the
// caller hands in file contents and relative paths; nothing here touches
// the file system. See docs/dockerignore.md for the rules with examples.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mason/util/error.h"

namespace mason::frontend {

// One pattern as read from a .dockerignore file.
struct IgnoreRule {
  std::string pattern;  // cleaned; a leading '!' marks an exception
  std::size_t line = 0; // 1-based line in the file; 0 when not from a file
};

// Splits .dockerignore text into rules, like the reference reader: a UTF-8
// BOM at the start is dropped; a line whose first byte is '#' is a comment
// (only there: " # x" is the pattern "# x"); other lines are trimmed of
// Unicode white space and skipped when blank; the rest (after a leading '!',
// itself trimmed again) is cleaned like Go's filepath.Clean ("./a/../b" ->
// "b", "a//b/" -> "a/b") and one leading '/' is dropped. A lone "!" is kept
// so that IgnoreMatcher::create reports it with its line.
// Errors (invalid_argument) only for a line of 64 KiB or more, which the
// reference's line scanner refuses too.
util::Result<std::vector<IgnoreRule>> read_dockerignore(std::string_view contents);

// A compiled set of .dockerignore patterns. Later patterns override earlier
// ones; "!pattern" is an exception that re-includes what it matches. A
// pattern that matches a directory excludes everything below it (unless an
// exception re-includes it). Cheap to copy (shares the compiled patterns);
// all const members are safe to call from several threads.
//
// Paths handed in are relative to the context root, '/'-separated and
// clean: no leading '/' or "./", no trailing '/', no "." or ".." elements
// (what a walker of the context produces). The root itself ("" or ".") is
// never excluded.
class IgnoreMatcher {
public:
  // What a walker keeps for each directory it visits: which patterns matched
  // the directory or one of its ancestors. The reference needs this per
  // pattern; one "parent excluded" bit is not enough (it gives wrong answers
  // for exceptions under excluded directories). A default DirState means
  // "nothing known": pass it for entries at the context root.
  class DirState {
  public:
    DirState() = default;

  private:
    friend class IgnoreMatcher;
    std::vector<bool> m_matched; // empty: unknown
  };

  // An empty matcher: excludes nothing.
  IgnoreMatcher();

  // Compiles patterns as given to the reference matcher (each is trimmed and
  // cleaned; blank ones are skipped). Fails with invalid_argument naming the
  // pattern (and its line, for rules) on a lone "!", a glob that breaks Go's
  // filepath.Match syntax ("[", "[a-", "[-x]", a trailing '\') or whose
  // regexp rewrite does not compile ("[z-a]", "a\q*"), and with unsupported
  // for the Go regexp escapes mason does not implement (\p, \P, \Q).
  static util::Result<IgnoreMatcher> create(const std::vector<std::string>& patterns);
  static util::Result<IgnoreMatcher> create(std::span<const IgnoreRule> rules);

  // read_dockerignore + create; errors get the context "parse <file_name>".
  static util::Result<IgnoreMatcher>
  from_dockerignore(std::string_view contents, std::string_view file_name = ".dockerignore");

  bool empty() const;
  std::size_t size() const;    // patterns kept (blank ones dropped)
  bool has_exceptions() const; // any "!pattern"

  // True when rel_path is left out of the build context: the decision the
  // reference's walker reaches for it, i.e. excluded_given_parent applied to
  // each ancestor from the root down and then to rel_path.
  bool excluded(std::string_view rel_path) const;

  // One walker step: is rel_path excluded, given the state of its parent
  // directory (a default DirState for entries at the root)? When rel_path is
  // a directory, pass state_out and hand it to the directory's children.
  //
  //   walk(dir, state): for each entry e of dir:
  //     DirState s; bool out = m.excluded_given_parent(e.path, state, &s);
  //     if (e.is_dir && (!out || m.may_reinclude_under(e.path))) walk(e, s);
  //     if (!out) keep e (and create its excluded ancestors, as BuildKit does)
  bool excluded_given_parent(std::string_view rel_path, const DirState& parent,
                             DirState* state_out = nullptr) const;

  // For an excluded directory: false means nothing below it can be
  // re-included, so a walker may skip it entirely; true means some exception
  // might match a path below it (conservative: may be true in vain).
  bool may_reinclude_under(std::string_view dir) const;

private:
  struct Impl;
  explicit IgnoreMatcher(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> m_impl;
};

// Which ignore file applies to a build, as BuildKit's Dockerfile frontend
// chooses: "<dockerfile_path>.dockerignore" (beside the Dockerfile, named
// after the Dockerfile as requested, e.g. "Dockerfile.dockerignore" even
// when the lower-case "dockerfile" fallback was read) if it is a file, else
// ".dockerignore" at the root of the context directory if it is a file,
// else none. dockerfile_path may be empty (Dockerfile from stdin). is_file
// answers for a path built by plain string joining, as the caller's
// arguments are spelled.
std::optional<std::string>
choose_dockerignore(std::string_view dockerfile_path, std::string_view context_dir,
                    const std::function<bool(const std::string&)>& is_file);

} // namespace mason::frontend
