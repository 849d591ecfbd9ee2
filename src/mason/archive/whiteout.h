// OCI whiteouts (image-spec layer.md) and their overlayfs counterparts.
//
// In a layer tar: ".wh.<name>" deletes <name> of the lower layers;
// ".wh..wh..opq" inside a directory hides everything the lower layers have
// in it. Other ".wh..wh.*" names are AUFS metadata and are ignored.
// In an overlayfs upperdir: a deleted entry is a character device 0:0; an
// opaque directory carries the xattr <prefix>overlay.opaque = "y".
#pragma once

#include <string_view>

namespace mason::archive {

inline constexpr std::string_view k_whiteout_prefix = ".wh.";
inline constexpr std::string_view k_whiteout_meta_prefix = ".wh..wh.";
inline constexpr std::string_view k_whiteout_opaque = ".wh..wh..opq";

// Which xattr namespace the overlay mount uses: "trusted." (default, needs
// CAP_SYS_ADMIN) or "user." (mounted with -o userxattr, rootless).
enum class OverlayXattrs { trusted, user };

constexpr std::string_view overlay_opaque_xattr(OverlayXattrs ns) {
  return ns == OverlayXattrs::trusted ? "trusted.overlay.opaque" : "user.overlay.opaque";
}
constexpr std::string_view overlay_xattr_prefix(OverlayXattrs ns) {
  return ns == OverlayXattrs::trusted ? "trusted.overlay." : "user.overlay.";
}

} // namespace mason::archive
