// Scratch directories for the tests that need the kernel's overlayfs, device
// nodes and trusted.* xattrs (snapshots, whiteouts, mknod). $TMPDIR often
// cannot host them in CI containers (an overlay root: no overlayfs upper
// directory on it, and mknod may be refused), while the build tree, bind
// mounted from a real file system, can. kernel_scratch() probes the
// candidates once per process; a test that needs the kernel skips with the
// probe's reason when none can (MASON_NEED_KERNEL_SCRATCH), and every other
// test keeps using $TMPDIR.
#pragma once

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

namespace mason::test {

struct KernelScratch {
  std::string dir;     // a base directory for sys::TempDir::create_in; "" if none
  std::string why_not; // every candidate's reason, when dir is ""
};

// "" when `base` can hold an overlayfs upper directory with a whiteout
// device and an opaque xattr, mounted for real; else the reason.
inline std::string kernel_capable(const std::string& base) {
  std::string t = base + "/mason-kernel-probe-XXXXXX";
  if (::mkdtemp(t.data()) == nullptr)
    return "cannot create a directory: " + std::string(std::strerror(errno));
  std::string why;
  for (const char* d : {"/l", "/u", "/w", "/m"}) ::mkdir((t + d).c_str(), 0755);
  if (::mknod((t + "/u/wh").c_str(), S_IFCHR, makedev(0, 0)) != 0)
    why = "mknod: " + std::string(std::strerror(errno));
  else if (::setxattr((t + "/u").c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0)
    why = "trusted.* xattrs: " + std::string(std::strerror(errno));
  else if (::mount("overlay", (t + "/m").c_str(), "overlay", 0,
                   ("lowerdir=" + t + "/l,upperdir=" + t + "/u,workdir=" + t + "/w").c_str()) != 0)
    why = "overlayfs upper directory: " + std::string(std::strerror(errno));
  else
    ::umount2((t + "/m").c_str(), MNT_DETACH);
  std::error_code ec;
  std::filesystem::remove_all(t, ec);
  return why;
}

inline const KernelScratch& kernel_scratch() {
  static const KernelScratch scratch = [] {
    KernelScratch out;
    if (::geteuid() != 0) {
      out.why_not = "needs root (overlayfs mounts, device nodes)";
      return out;
    }
    std::vector<std::string> candidates;
    if (const char* t = std::getenv("TMPDIR"); t && *t) candidates.emplace_back(t);
    candidates.insert(candidates.end(), {"/tmp", "/var/tmp"});
#ifdef MASON_BINARY
    candidates.push_back(std::filesystem::path(MASON_BINARY).parent_path().string());
#endif
    for (const auto& c : candidates) {
      auto why = kernel_capable(c);
      if (why.empty()) {
        out.dir = c;
        return out;
      }
      out.why_not += (out.why_not.empty() ? "" : "; ") + c + ": " + why;
    }
    return out;
  }();
  return scratch;
}

// A base for scratch directories: the kernel-capable one when there is
// one, else $TMPDIR (or /tmp).
inline std::string scratch_base() {
  if (!kernel_scratch().dir.empty()) return kernel_scratch().dir;
  const char* t = std::getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

} // namespace mason::test

// Skips the current test, naming why, when no directory can host overlayfs
// upper directories, whiteout devices and trusted.* xattrs.
#define MASON_NEED_KERNEL_SCRATCH()                                                                \
  do {                                                                                             \
    if (::mason::test::kernel_scratch().dir.empty())                                               \
      GTEST_SKIP() << "no directory here can host overlayfs, device nodes and trusted xattrs ("    \
                   << ::mason::test::kernel_scratch().why_not << ")";                              \
  } while (false)
