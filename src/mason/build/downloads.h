// The URLs a build's ADD steps download without --checksum. Their step keys
// hold the content's digest and Last-Modified time (as BuildKit's http
// source keys them), so the URL is fetched when the key is made, once per
// URL and build; the step, when it runs, copies those same bytes (this is
// its HttpFetcher), so the key and the layer cannot disagree.
//
// Files live in a directory of the build's work dir (removed with it).
// Thread-safe: stages key and run in parallel; a URL wanted by two stages
// at once is downloaded once, the second waits for the first.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "mason/ops/fetch_http.h"

namespace mason::build {

class Downloads final : public ops::HttpFetcher {
public:
  // `upstream`: null for libcurl (ops::default_http_fetcher, opened at the
  // first download).
  explicit Downloads(std::string dir, ops::HttpFetcher* upstream = nullptr);

  // The digest, size and Last-Modified of `url`'s content, downloaded now
  // unless this build already has it. Errors name the URL.
  util::Result<ops::FetchResult> prefetch(const std::string& url);

  // The downloaded bytes of `url` written to `out_fd` (downloading first if
  // prefetch was not called).
  util::Result<ops::FetchResult> fetch(const std::string& url, int out_fd) override;

private:
  struct Entry {
    std::mutex mutex;
    std::string path; // empty until downloaded
    ops::FetchResult result;
  };
  util::Result<Entry*> downloaded(const std::string& url);

  std::string m_dir;
  ops::HttpFetcher* m_upstream;
  std::mutex m_mutex; // guards m_entries and m_next
  std::map<std::string, std::unique_ptr<Entry>> m_entries;
  int m_next = 0;
};

} // namespace mason::build
