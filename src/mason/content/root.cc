// Store root resolution: the first set source wins (flag, MASON_ROOT,
// XDG_DATA_HOME, HOME), with the XDG rule that relative values are ignored.
#include "mason/content/root.h"

namespace mason::content {

util::Result<std::filesystem::path> resolve_root(const RootEnv& env) {
  if (!env.flag.empty()) return std::filesystem::path(env.flag);
  if (!env.mason_root.empty()) return std::filesystem::path(env.mason_root);
  const std::filesystem::path xdg(env.xdg_data_home);
  if (xdg.is_absolute()) return xdg / "mason";
  const std::filesystem::path home(env.home);
  if (home.is_absolute()) return home / ".local" / "share" / "mason";
  return util::make_error(util::ErrorCode::invalid_argument,
                          "cannot locate the mason store: pass --root, or set MASON_ROOT, "
                          "XDG_DATA_HOME or HOME");
}

} // namespace mason::content
