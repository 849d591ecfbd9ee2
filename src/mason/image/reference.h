// Image references (`debian`, `localhost:5000/a/b:tag`, `name@sha256:...`)
// parsed and normalised as Docker does (github.com/distribution/reference,
// ParseNormalizedNamed + TagNameOnly):
//
//   busybox                      -> docker.io/library/busybox:latest
//   user/repo                    -> docker.io/user/repo:latest
//   index.docker.io/debian       -> docker.io/library/debian:latest
//   localhost:5000/a/b:tag       -> localhost:5000/a/b:tag
//   host.example.com/x@sha256:.. -> host.example.com/x@sha256:..   (no tag added)
//   name:tag@sha256:..           -> docker.io/library/name:tag@sha256:.. (both kept)
//
// The first path component is the registry (domain) when it contains '.'
// or ':', is `localhost`, or has an upper-case letter; otherwise the
// registry is docker.io, and a one-component Docker Hub path gets the
// `library/` prefix. The repository path must be lower case; tags follow
// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
//
// A Reference is an immutable value; thread-safe to share.
#pragma once

#include <string>
#include <string_view>

#include "mason/image/digest.h"
#include "mason/util/error.h"

namespace mason::image {

class Reference {
public:
  // Errors (invalid_argument) name the reference and say why:
  //   invalid reference format: "Foo": repository name (library/Foo) must be lowercase
  // Also refused: empty names, 64-hex-digit names (image IDs), bad domains,
  // path components or tags, paths over 255 characters, malformed digests;
  // digests of an unknown algorithm or wrong length.
  static util::Result<Reference> parse(std::string_view text);

  const std::string& domain() const { return m_domain; } // "docker.io", "localhost:5000"
  const std::string& path() const { return m_path; }     // "library/busybox"
  const std::string& tag() const { return m_tag; }       // "" for a digest-only reference
  const Digest& digest() const { return m_digest; }      // empty when none
  bool has_digest() const { return !m_digest.empty(); }

  // domain/path: "docker.io/library/busybox".
  std::string name() const;
  // The full normalised form: "docker.io/library/busybox:latest".
  std::string str() const;
  // The short form Docker shows: "busybox:latest", "user/repo:tag",
  // "localhost:5000/a:tag" (docker.io and a lone library/ dropped).
  std::string familiar() const;
  std::string familiar_name() const; // "busybox"

  // Copies with another tag or digest (checked like parse()).
  util::Result<Reference> with_tag(std::string_view tag) const;
  Reference with_digest(const Digest& digest) const;
  // Without the tag when a digest is present (Docker's ParseDockerRef form:
  // the digest decides what is pulled).
  Reference pinned() const;

  bool operator==(const Reference&) const = default;

private:
  std::string m_domain;
  std::string m_path;
  std::string m_tag;
  Digest m_digest;
};

} // namespace mason::image
