// Users and groups inside an image root: /etc/passwd and /etc/group read
// through the root (a symlinked /etc/passwd is followed, but only inside
// the root), with moby/sys/user's line format (name:pass:uid:gid:...;
// name:pass:gid:member,member). Two resolutions, because BuildKit has two:
//
//   resolve_user (copy.h) — USER / RUN, BuildKit's executor/oci GetUser:
//     "" is "0" whose lookup may fail (then 0:0, no groups); "uid:gid" with
//     both numeric (or "root") is taken as is, without groups;
//     otherwise runc's GetExecUser: a name must exist in /etc/passwd
//     (not_found otherwise), a numeric uid need not; the group is the
//     passwd entry's (0 for an unknown numeric uid) unless one is given,
//     which must exist in /etc/group unless numeric; supplementary groups
//     are the /etc/group entries listing the user's name (implicit form
//     only). A missing file counts as empty.
//
//   resolve_chown — COPY/ADD --chown, BuildKit's llb.WithUser + the file
//     op's readUser: "user[:group]"; "root" and decimal numbers are ids; a
//     numeric user sets uid and gid to that number; a user name takes uid
//     and primary gid from /etc/passwd; a group (name or id) then replaces
//     the gid. An unknown name, or a missing file, leaves the id at 0: BuildKit
//     does not fail (COPY --chown=nosuch f / gives 0:0). An empty user part
//     (":grp") is uid 0; an empty group part ("user:") is gid 0.
//
// Errors: invalid_argument for a passwd/group file that is not a regular
// file or is larger than 10 MiB; I/O errors. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mason/util/error.h"

namespace mason::ops {

struct Owner {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  bool operator==(const Owner&) const = default;
};

// `root_fd`: the destination root (a directory descriptor, O_PATH is fine).
util::Result<Owner> resolve_chown(int root_fd, std::string_view spec);

// Whether resolve_chown would look `spec`'s user or group up by name (in
// /etc/passwd or /etc/group) rather than take it as an id: the --link
// copy, made on an empty root, cannot (BuildKit fails it).
bool chown_names_someone(std::string_view spec);

} // namespace mason::ops
