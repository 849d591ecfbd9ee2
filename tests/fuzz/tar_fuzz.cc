// Fuzzes the layer reader and applier on arbitrary bytes: compression
// detection, gzip/zstd decoding, tar parsing (ustar, PAX, GNU), and the
// application of every entry, whiteouts included, into a fresh temporary
// directory. Bad input must give errors; any crash, hang or sanitizer report
// is a bug. After every input the fuzzer also checks that a sentinel
// directory next to the destination is exactly as it was and that nothing
// else appeared beside it: an escape from the destination aborts.
//
// Inputs of odd length are applied in overlay-upperdir form, even ones in
// merged form. Device nodes are skipped and owners ignored (nothing outside
// the temporary tree can be affected by them anyway).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/archive/layer.h"
#include "mason/sys/dir.h"
#include "mason/sys/temp_dir.h"
#include "mason/sys/unique_fd.h"

namespace archive = mason::archive;
namespace sys = mason::sys;

namespace {

constexpr std::string_view k_sentinel = "sentinel data";

struct World {
  sys::TempDir base;
  sys::UniqueFd dest;
  sys::UniqueFd outside;
};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "tar_fuzz: %s\n", what);
  std::abort();
}

World& world() {
  static World w = [] {
    auto base = sys::TempDir::create("mason-tar-fuzz-");
    if (!base) die("cannot create a temporary directory");
    if (::mkdirat(base->fd(), "dest", 0755) != 0 || ::mkdirat(base->fd(), "outside", 0755) != 0)
      die("mkdir");
    sys::UniqueFd dest(::openat(base->fd(), "dest", O_PATH | O_DIRECTORY | O_CLOEXEC));
    sys::UniqueFd outside(::openat(base->fd(), "outside", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dest || !outside) die("open");
    const std::string sentinel = base->path() + "/outside/sentinel";
    sys::UniqueFd f(::open(sentinel.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    if (!f || ::write(f.get(), k_sentinel.data(), k_sentinel.size()) !=
                  static_cast<ssize_t>(k_sentinel.size()))
      die("write sentinel");
    return World{std::move(*base), std::move(dest), std::move(outside)};
  }();
  return w;
}

void check_outside(World& w) {
  auto names = sys::read_dir_names(w.base.fd());
  if (!names || *names != std::vector<std::string>{"dest", "outside"})
    die("something appeared next to the destination");
  auto inside = sys::read_dir_names(w.outside.get());
  if (!inside || *inside != std::vector<std::string>{"sentinel"})
    die("the sentinel directory changed");
  struct stat st {};
  if (::fstatat(w.outside.get(), "sentinel", &st, AT_SYMLINK_NOFOLLOW) != 0 ||
      !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
      st.st_size != static_cast<off_t>(k_sentinel.size()) || (st.st_mode & 07777) != 0644)
    die("the sentinel file changed");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  if (!sys::remove_children(w.dest.get())) die("cannot empty the destination");
  archive::ApplyOptions options;
  options.target =
      size % 2 == 1 ? archive::ApplyTarget::overlay_upper : archive::ApplyTarget::merged;
  options.devices = archive::DevicePolicy::skip;
  options.owners = archive::OwnerPolicy::ignore;
  options.xattrs = archive::XattrPolicy::best_effort;
  archive::MemorySource source(std::string_view(reinterpret_cast<const char*>(data), size));
  auto stats = archive::apply_layer(source, w.dest.get(), options);
  if (!stats) (void)stats.error().to_string();
  check_outside(w);
  return 0;
}
