// HTTP(S) downloads for ADD <url>: a small interface, so that the copy
// logic does not depend on libcurl and tests can substitute a fetcher.
//
// BuildKit's http source semantics the caller relies on: one GET with
// redirects followed (up to 10, http and https only); a final status
// outside 200..399 is an error ("invalid response status 404"); the body
// is stored as is and hashed with SHA-256; Last-Modified, when present
// and parseable, gives the file's mtime.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "mason/util/error.h"

namespace mason::ops {

struct FetchResult {
  std::string sha256_hex;                    // of the body
  std::optional<std::int64_t> last_modified; // seconds since the epoch
  std::uint64_t size = 0;
  std::string etag;          // the response's ETag, as sent (quotes included), or empty
  bool not_modified = false; // fetch_if_changed: 304, nothing was written
};

class HttpFetcher {
public:
  virtual ~HttpFetcher() = default;
  // Writes the body of `url` to `out_fd` (a new, empty file). Errors:
  // unavailable (connection, TLS, status), naming the URL.
  virtual util::Result<FetchResult> fetch(const std::string& url, int out_fd) = 0;
  // The same GET with If-None-Match: `etag`. A 304 gives not_modified (and
  // the etag; sha256_hex and size are empty); anything else is fetch()'s.
  // By default an unconditional fetch().
  virtual util::Result<FetchResult> fetch_if_changed(const std::string& url, int out_fd,
                                                     const std::string& etag) {
    (void)etag;
    return fetch(url, out_fd);
  }
};

// The process-wide libcurl fetcher (thread-safe: one easy handle per call;
// honours the usual *_proxy environment variables).
HttpFetcher& default_http_fetcher();

} // namespace mason::ops
