// The URLs a build's ADD steps download without --checksum. Their step keys
// hold the content's digest and Last-Modified time (as BuildKit's http
// source keys them), so the URL is fetched when the key is made, once per
// URL and build; the step, when it runs, copies those same bytes (this is
// its HttpFetcher), so the key and the layer cannot disagree.
//
// Revalidation (as BuildKit): when a download's response had an ETag, the
// digest, size, Last-Modified and ETag are kept in <meta_dir> (one JSON
// file per URL); the next build asks with If-None-Match and, on 304, keys
// the step with what was kept, without downloading. Should the step then
// run after all (its key missed for another reason), the bytes are
// fetched again and must have the kept digest.
//
// Files live in a directory of the build's work dir (removed with it).
// Thread-safe: stages key and run in parallel; a URL wanted by two stages
// at once is fetched once, the second waits for the first.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "mason/ops/fetch_http.h"

namespace mason::engine {

class Downloads final : public ops::HttpFetcher {
public:
  // `meta_dir` empty: no revalidation. `upstream`: null for libcurl
  // (ops::default_http_fetcher, opened at the first download).
  Downloads(std::string dir, std::string meta_dir, ops::HttpFetcher* upstream = nullptr);

  // The digest, size and Last-Modified of `url`'s content: fetched (or
  // revalidated) now unless this build already has it. Errors name the URL.
  util::Result<ops::FetchResult> prefetch(const std::string& url);

  // The bytes of `url` written to `out_fd`: those prefetch saw.
  util::Result<ops::FetchResult> fetch(const std::string& url, int out_fd) override;

private:
  struct Entry {
    std::mutex mutex;
    bool known = false; // result is set
    std::string path;   // the downloaded bytes; empty after a 304
    ops::FetchResult result;
  };
  Entry& entry_of(const std::string& url);
  util::Status resolve(const std::string& url, Entry& entry);
  util::Result<std::string> download(const std::string& url, const std::string& etag,
                                     ops::FetchResult& out);
  std::string meta_path(const std::string& url) const;

  std::string m_dir;
  std::string m_meta_dir;
  ops::HttpFetcher* m_upstream;
  std::mutex m_mutex; // guards m_entries and m_next
  std::map<std::string, std::unique_ptr<Entry>> m_entries;
  int m_next = 0;
};

} // namespace mason::engine
