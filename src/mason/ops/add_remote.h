// ADD's remote sources: telling URLs and git references from local paths
// (dockerfile2llb's isHTTPSource / dfgitutil.ParseGitRef), the file name a
// download gets, and --checksum parsing (go-digest's Parse).
//
// Git references: "git://...", "ssh://...", "http(s)://.../x.git[#...]"
// and scp-like "user@host:path"; "./x", "../x" and "github.com/..." are
// local paths (the last is a deprecated form the frontend keeps for build
// contexts only). HTTP sources: "http://" or "https://" (case-sensitive)
// that are not git references. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "mason/util/error.h"

namespace mason::ops {

enum class SourceKind { local, http, git };

SourceKind classify_source(std::string_view source);

// The name an ADD'ed URL gets: the last element of the URL's (decoded)
// path, "__unnamed__" when there is none, made safe like BuildKit's
// pathutil.SafeFileName (a name with control characters is "download").
std::string url_file_name(std::string_view url);

struct Checksum {
  std::string algorithm; // "sha256", "sha384", "sha512"
  std::string hex;       // lower-case
  std::string text() const { return algorithm + ":" + hex; }
};

// "algo:hex". Errors (invalid_argument) with go-digest's wording: "invalid
// checksum digest format", "invalid checksum digest length", "unsupported
// digest algorithm".
util::Result<Checksum> parse_checksum(std::string_view text);

} // namespace mason::ops
