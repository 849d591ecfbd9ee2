// OCI whiteouts <-> overlayfs whiteouts, both ways, and against the kernel.
#include <gtest/gtest.h>

#include <sys/mount.h>
#include <sys/xattr.h>

#include "../kernel_scratch.h"
#include "archive_test_util.h"

using namespace mason;
using namespace mason::archive;
using namespace mason::archive::testing;

namespace {

constexpr const char* k_opaque = "trusted.overlay.opaque";

void mknod_whiteout(const std::string& path) {
  ASSERT_EQ(::mknod(path.c_str(), S_IFCHR, makedev(0, 0)), 0) << path;
}

bool is_whiteout(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

std::string xattr(const std::string& path, const char* name) {
  char buf[64];
  const ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof buf);
  return n < 0 ? "<none>" : std::string(buf, static_cast<std::size_t>(n));
}

LayerOptions upper_form() {
  LayerOptions o;
  o.compress.compression = Compression::none;
  o.tar.form = TreeForm::overlay_upper;
  return o;
}

std::string layer_of(const std::string& root, const LayerOptions& o) {
  StringSink out;
  auto r = write_layer(root, o, out);
  EXPECT_TRUE(r) << r.error().to_string();
  return out.take();
}

// The lower tree most tests start from.
void make_lower(const std::string& root) {
  for (const char* d : {"b", "c", "c/sub", "d"})
    ASSERT_EQ(::mkdir((root + "/" + d).c_str(), 0755), 0);
  for (const char* f : {"a", "b/x", "b/y", "c/old1", "c/sub/old2", "d/keep", "e"})
    write_file(root + "/" + f, f);
}

// A layer deleting a, b/x, making c opaque with new content, and creating
// then whiting out "e2" in the same layer (the entry must stay).
std::string oci_layer() {
  return TarBuilder()
      .file(".wh.a", "")
      .file("b/.wh.x", "")
      .dir("c/")
      .file("c/.wh..wh..opq", "")
      .file("c/new", "new")
      .dir("c/sub/")
      .file("c/sub/new2", "new2")
      .file("e2", "same layer")
      .file(".wh.e2", "")
      .finish();
}

class Whiteouts : public Dirs {};

} // namespace

TEST_F(Whiteouts, UpperdirBecomesOciEntries) {
  MASON_NEED_KERNEL_SCRATCH();
  const std::string s = src();
  mknod_whiteout(s + "/gone");
  ASSERT_EQ(::link((s + "/gone").c_str(), (s + "/also-gone").c_str()), 0); // one inode, two names
  ASSERT_EQ(::mkdir((s + "/d").c_str(), 0750), 0);
  ASSERT_EQ(::setxattr((s + "/d").c_str(), k_opaque, "y", 1, 0), 0);
  write_file(s + "/d/f", "f");
  mknod_whiteout(s + "/d/-gone"); // sorts before ".wh..wh..opq"
  write_file(s + "/keep", "k");
  ASSERT_EQ(::setxattr((s + "/keep").c_str(), "trusted.overlay.origin", "x", 1, 0), 0);
  ASSERT_EQ(::setxattr((s + "/keep").c_str(), "trusted.other", "1", 1, 0), 0);
  ASSERT_EQ(::mkdir((s + "/notopq").c_str(), 0755), 0);
  ASSERT_EQ(::setxattr((s + "/notopq").c_str(), k_opaque, "x", 1, 0), 0); // "x": not opaque

  const std::string layer = layer_of(s, upper_form());
  auto entries = read_all(layer);
  ASSERT_TRUE(entries) << entries.error().to_string();
  std::vector<std::string> names;
  for (const auto& e : *entries) {
    names.push_back(e.entry.name);
    EXPECT_NE(e.entry.type, EntryType::hardlink) << e.entry.name;
    EXPECT_NE(e.entry.type, EntryType::char_device) << e.entry.name;
    for (const auto& [k, v] : e.entry.xattrs) EXPECT_FALSE(k.starts_with("trusted.overlay.")) << k;
  }
  EXPECT_EQ(names, (std::vector<std::string>{".wh.also-gone", "d/", "d/.wh..wh..opq", "d/.wh.-gone",
                                             "d/f", ".wh.gone", "keep", "notopq/"}));
  const auto& opq = (*entries)[2].entry;
  EXPECT_EQ(opq.type, EntryType::regular);
  EXPECT_EQ(opq.size, 0);
  EXPECT_EQ(opq.mode, 0750u);
  EXPECT_EQ((*entries)[6].entry.xattrs,
            (std::map<std::string, std::string>{{"trusted.other", "1"}}));
  EXPECT_EQ((*entries)[0].entry.mode, 0600u);
  EXPECT_EQ((*entries)[0].entry.size, 0);

  // The plain form keeps the devices as devices.
  LayerOptions plain = upper_form();
  plain.tar.form = TreeForm::plain;
  entries = read_all(layer_of(s, plain));
  ASSERT_TRUE(entries);
  EXPECT_EQ((*entries)[0].entry.name, "also-gone");
  EXPECT_EQ((*entries)[0].entry.type, EntryType::char_device);
}

TEST_F(Whiteouts, RedirectUpperdirsAreRefused) {
  MASON_NEED_KERNEL_SCRATCH();
  ASSERT_EQ(::mkdir((src() + "/moved").c_str(), 0755), 0);
  ASSERT_EQ(::setxattr((src() + "/moved").c_str(), "trusted.overlay.redirect", "/orig", 5, 0), 0);
  StringSink out;
  auto r = write_layer(src(), upper_form(), out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), util::ErrorCode::unsupported);
  EXPECT_NE(r.error().to_string().find("archive \"moved\""), std::string::npos);
}

TEST_F(Whiteouts, OciLayerOntoMergedTreeDeletes) {
  make_lower(dest());
  auto r = apply(oci_layer());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(exists(dest() + "/a"));
  EXPECT_FALSE(exists(dest() + "/b/x"));
  EXPECT_TRUE(exists(dest() + "/b/y"));
  EXPECT_FALSE(exists(dest() + "/c/old1"));
  EXPECT_FALSE(exists(dest() + "/c/sub/old2"));
  EXPECT_EQ(read_file(dest() + "/c/new"), "new");
  EXPECT_EQ(read_file(dest() + "/c/sub/new2"), "new2");
  EXPECT_EQ(read_file(dest() + "/d/keep"), "d/keep");
  EXPECT_EQ(read_file(dest() + "/e2"), "same layer");
  EXPECT_EQ(r->whiteouts, 2u);
  EXPECT_EQ(r->opaque_dirs, 1u);
  // Whiting out something that is not there is fine.
  ASSERT_TRUE(apply(TarBuilder().file("nope/.wh.x", "").file(".wh.nothing", "").finish()));
  expect_outside_untouched();
}

TEST_F(Whiteouts, OpaqueMarkerAfterTheContentKeepsTheContent) {
  make_lower(dest());
  auto r = apply(TarBuilder()
                     .dir("c/")
                     .file("c/new", "new")
                     .file("c/sub/deeper/f", "f")
                     .file("c/.wh..wh..opq", "")
                     .finish());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(read_file(dest() + "/c/new"), "new");
  EXPECT_EQ(read_file(dest() + "/c/sub/deeper/f"), "f");
  EXPECT_FALSE(exists(dest() + "/c/old1"));
  EXPECT_FALSE(exists(dest() + "/c/sub/old2")); // lower content of a kept dir goes too
  // An opaque root hides every lower entry.
  ASSERT_TRUE(apply(TarBuilder().file(".wh..wh..opq", "").file("only", "x").finish()));
  auto names = sys::read_dir_names(dest_fd());
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, std::vector<std::string>{"only"});
}

TEST_F(Whiteouts, OciLayerOntoUpperdirMarks) {
  MASON_NEED_KERNEL_SCRATCH();
  ApplyOptions o;
  o.target = ApplyTarget::overlay_upper;
  auto r = apply(oci_layer(), o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(is_whiteout(dest() + "/a"));
  EXPECT_TRUE(is_whiteout(dest() + "/b/x"));
  EXPECT_EQ(xattr(dest() + "/c", k_opaque), "y");
  EXPECT_EQ(xattr(dest() + "/b", k_opaque), "<none>");
  EXPECT_EQ(read_file(dest() + "/c/new"), "new");
  EXPECT_EQ(read_file(dest() + "/e2"), "same layer");
  // Back to OCI: the same entries again (apart from b/, which the layer
  // did not carry: it now exists in the upperdir).
  auto entries = read_all(layer_of(dest(), upper_form()));
  ASSERT_TRUE(entries);
  std::vector<std::string> names;
  for (const auto& e : *entries) names.push_back(e.entry.name);
  EXPECT_EQ(names, (std::vector<std::string>{".wh.a", "b/", "b/.wh.x", "c/", "c/.wh..wh..opq",
                                             "c/new", "c/sub/", "c/sub/new2", "e2"}));
  // A directory created over a whiteout of the same layer becomes opaque.
  ASSERT_TRUE(sys::remove_children(dest_fd()));
  r = apply(TarBuilder().file(".wh.x", "").dir("x/").file("x/f", "f").finish(), o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(xattr(dest() + "/x", k_opaque), "y");
  expect_outside_untouched();
}

namespace {

// An overlay mount of <lower> and <upper> at <merged>, unmounted on scope exit.
class OverlayMount {
public:
  OverlayMount(const std::string& lower, const std::string& upper, const std::string& work,
               const std::string& merged)
      : m_merged(merged) {
    const std::string opts = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
    m_ok = ::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) == 0;
    m_errno = errno;
  }
  ~OverlayMount() { unmount(); }
  OverlayMount(const OverlayMount&) = delete;
  OverlayMount& operator=(const OverlayMount&) = delete;
  bool ok() const { return m_ok; }
  int error() const { return m_errno; }
  void unmount() {
    if (m_ok) ::umount2(m_merged.c_str(), 0);
    m_ok = false;
  }

private:
  std::string m_merged;
  bool m_ok = false;
  int m_errno = 0;
};

} // namespace

TEST_F(Whiteouts, KernelOverlayAgreesBothWays) {
  MASON_NEED_KERNEL_SCRATCH();
  // tmp/src = lower, tmp/dest = upper; tmp/outside stays untouched.
  auto scratch = sys::TempDir::create_in(test::scratch_base(), "mason-overlay-test-");
  ASSERT_TRUE(scratch);
  const std::string work = scratch->path() + "/work", merged = scratch->path() + "/merged",
                    expect = scratch->path() + "/expect";
  for (const auto& d : {work, merged, expect}) ASSERT_EQ(::mkdir(d.c_str(), 0755), 0);
  make_lower(src());
  make_lower(expect);

  // OCI layer -> overlay form upper -> kernel's merged view ==
  // OCI layer applied onto a copy of the lower tree.
  ApplyOptions overlay;
  overlay.target = ApplyTarget::overlay_upper;
  ASSERT_TRUE(apply(oci_layer(), overlay));
  sys::UniqueFd expect_fd(::open(expect.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  {
    const std::string oci = oci_layer(); // MemorySource borrows it
    MemorySource oci_src(oci);
    ASSERT_TRUE(apply_layer(oci_src, expect_fd.get(), {}));
  }
  OverlayMount mnt(src(), dest(), work, merged);
  if (!mnt.ok()) GTEST_SKIP() << "overlay mount failed: " << std::strerror(mnt.error());
  EXPECT_EQ(describe(merged, false), describe(expect, false));

  // Change the merged view: delete a lower file, replace a lower directory
  // (rm -r + mkdir = opaque), add a file. Then upper -> OCI layer ->
  // applied onto the lower copy must give the merged view again.
  ASSERT_EQ(::unlink((merged + "/b/y").c_str()), 0);
  ASSERT_TRUE(sys::remove_all_at(AT_FDCWD, merged + "/d"));
  ASSERT_EQ(::mkdir((merged + "/d").c_str(), 0700), 0);
  write_file(merged + "/d/fresh", "fresh");
  write_file(merged + "/added", "added");
  ASSERT_EQ(::unlink((merged + "/e").c_str()), 0);
  const auto view = describe(merged, false);
  mnt.unmount();
  EXPECT_TRUE(is_whiteout(dest() + "/b/y"));
  EXPECT_EQ(xattr(dest() + "/d", k_opaque), "y");

  const std::string layer = layer_of(dest(), upper_form());
  ASSERT_TRUE(sys::remove_children(expect_fd.get()));
  make_lower(expect);
  MemorySource layer_src(layer);
  auto r = apply_layer(layer_src, expect_fd.get(), {});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(describe(expect, false), view);
  expect_outside_untouched();
}
